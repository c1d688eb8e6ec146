// The redis stage's options and its registration.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/redis/stages/redis_stage.h>

namespace scopeflow {
namespace {

OptionsSchema redis_schema() {
    std::vector<std::string> commands;
    for (const RedisCommand c : {RedisCommand::get, RedisCommand::set, RedisCommand::incr,
                                 RedisCommand::incrby, RedisCommand::hget, RedisCommand::hset}) {
        commands.emplace_back(to_string(c));
    }
    return OptionsSchema("redis",
                         "GET/SET/INCR/INCRBY/HGET/HSET per event on a shared Redis client "
                         "(writes pipelined per batch)")
        .add({.name = "resource", .doc = "the redis client's name in resources", .required = true})
        .add({.name = "command", .doc = "the command", .required = true, .choices = commands})
        .add({.name = "key", .doc = "key template, ${field} from the event", .required = true})
        .add({.name = "field", .doc = "hash field template (hget, hset)"})
        .add({.name = "value", .doc = "the event field written (set, hset) or the amount (incrby)"})
        .add({.name = "by",
              .kind = OptionKind::integer,
              .doc = "incrby amount when no value field",
              .default_value = "1"})
        .add({.name = "ttl_ms",
              .kind = OptionKind::duration,
              .doc = "expiry for set/incr/incrby/hset; 0: none",
              .default_value = "0"})
        .add({.name = "into", .doc = "where the result goes (get, hget; incr/incrby: optional)"})
        .add({.name = "on_error",
              .doc = "what a failed command does to its event",
              .default_value = "fail",
              .choices = {"fail", "skip"}})
        .add({.name = "pipeline",
              .kind = OptionKind::boolean,
              .doc = "buffer result-less writes until end of batch",
              .default_value = "true"})
        .add({.name = "retries",
              .kind = OptionKind::integer,
              .doc = "retries of a transient failure on a new connection",
              .default_value = "1",
              .min = 0,
              .max = 1000})
        .add({.name = "retry_backoff_ms",
              .kind = OptionKind::duration,
              .doc = "first retry wait, doubled each time",
              .default_value = "20ms"});
}

}  // namespace

void register_redis_stages(StageRegistry& registry, const Resources& resources) {
    registry.add(redis_schema(), [&resources](const ParsedOptions& o) -> std::unique_ptr<Stage> {
        RedisStageOptions s;
        s.client = resources.get<redis::Client>(o.string("resource"), o.where("resource"));
        s.command = *parse_redis_command(o.string("command"));
        s.key = o.string("key");
        s.field = o.string("field");
        s.value = o.string("value");
        s.by = o.integer("by");
        s.ttl = o.duration("ttl_ms");
        s.into = o.string("into");
        s.on_error = o.string("on_error") == "skip" ? RedisOnError::skip : RedisOnError::fail;
        s.pipeline = o.boolean("pipeline");
        s.retry = {.retries = static_cast<int>(o.integer("retries")),
                   .backoff = o.duration("retry_backoff_ms")};
        return std::make_unique<RedisStage>(std::move(s), o.where());
    });
}

}  // namespace scopeflow
