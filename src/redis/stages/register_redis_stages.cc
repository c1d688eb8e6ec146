#include <chrono>
#include <memory>
#include <string>

#include <scopeflow/core/error.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/redis/stages/redis_stage.h>

namespace scopeflow {
namespace {

bool optional_bool(const StageOptions& o,
                   std::string_view field,
                   bool fallback,
                   const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr) {
        return fallback;
    }
    if (v->kind() != ValueKind::boolean) {
        throw ConfigError(where + "." + std::string(field), "must be true or false");
    }
    return v->as_bool();
}

std::unique_ptr<Stage> make_redis_stage(const Resources& resources,
                                        const StageOptions& o,
                                        const std::string& where) {
    reject_unknown_fields(o,
                          {"resource", "command", "key", "field", "value", "by", "ttl_ms", "into",
                           "on_error", "pipeline", "retries", "retry_backoff_ms"},
                          where);
    RedisStageOptions s;
    s.client =
        resources.get<redis::Client>(require_string(o, "resource", where), where + ".resource");
    const std::string command = require_string(o, "command", where);
    const std::optional<RedisCommand> c = parse_redis_command(command);
    if (!c) {
        throw ConfigError(where + ".command",
                          "unknown command '" + command + "' (get, set, incr, incrby, hget, hset)");
    }
    s.command = *c;
    s.key = require_string(o, "key", where);
    s.field = optional_string(o, "field", "", where);
    s.value = optional_string(o, "value", "", where);
    s.by = optional_int(o, "by", 1, where);
    s.ttl = optional_duration(o, "ttl_ms", std::chrono::milliseconds(0), where);
    s.into = optional_string(o, "into", "", where);
    const std::string on_error = optional_string(o, "on_error", "fail", where);
    if (on_error == "fail") {
        s.on_error = RedisOnError::fail;
    } else if (on_error == "skip") {
        s.on_error = RedisOnError::skip;
    } else {
        throw ConfigError(where + ".on_error",
                          "must be \"fail\" or \"skip\", got \"" + on_error + "\"");
    }
    s.pipeline = optional_bool(o, "pipeline", true, where);
    const std::int64_t retries = optional_int(o, "retries", 1, where);
    const auto backoff =
        optional_duration(o, "retry_backoff_ms", std::chrono::milliseconds(20), where);
    if (retries < 0 || retries > 1000) {
        throw ConfigError(where + ".retries", "must be in 0..1000");
    }
    s.retry = {.retries = static_cast<int>(retries), .backoff = backoff};
    return std::make_unique<RedisStage>(std::move(s), where);
}

}  // namespace

void register_redis_stages(StageRegistry& registry, const Resources& resources) {
    registry.add(
        {.type = "redis",
         .description = "GET/SET/INCR/INCRBY/HGET/HSET per event on a shared Redis client "
                        "(writes pipelined per batch)",
         .options = "resource: the redis client's name in resources (required)\n"
                    "command: get, set, incr, incrby, hget or hset (required)\n"
                    "key: key template, ${field} from the event (required)\n"
                    "field: hash field template (hget, hset)\n"
                    "value: the event field written (set, hset) or the amount (incrby)\n"
                    "by: incrby amount when no value field (default 1)\n"
                    "ttl_ms: expiry for set/incr/incrby/hset, a duration (default 0: none)\n"
                    "into: where the result goes (get, hget; incr/incrby: optional)\n"
                    "on_error: fail (default) or skip\n"
                    "pipeline: buffer result-less writes until end of batch (default true)\n"
                    "retries: retries of a transient failure on a new connection (default 1)\n"
                    "retry_backoff_ms: first retry wait, doubled each time (default 20ms)",
         .origin = "builtin"},
        [&resources](const StageOptions& o, const std::string& where) {
            return make_redis_stage(resources, o, where);
        });
}

}  // namespace scopeflow
