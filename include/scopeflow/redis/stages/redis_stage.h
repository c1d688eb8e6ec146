// RedisStage: GET / SET / INCR / INCRBY / HGET / HSET per event against a shared redis::Client.
//
//   {"type": "redis", "resource": "cache", "command": "incr", "key": "hits:${user}",
//    "ttl_ms": 86400000}
//   {"type": "redis", "resource": "cache", "command": "get", "key": "user:${user_id}",
//    "into": "profile"}
//
//   auto stage = std::make_unique<RedisStage>(RedisStageOptions{
//       .client = resources.get<redis::Client>("cache", where),
//       .command = RedisCommand::set, .key = "last:${user}", .value = "ts", .ttl = 1h});
//
// Keys (and hash fields) are templates: "${name}" is replaced by the event's field `name` (a
// string as is, a number or bool as its JSON text); a missing or null field is an error for
// that event. Values are sent binary safe.
//
// Round trips: writes whose result the event does not need (set, hset, and incr / incrby
// without `into`) are buffered per worker and sent at the end of the batch, all in one pipelined
// round trip per worker (before the batch is acked, so an acked event's write is in Redis).
// Commands whose result goes into the event (get, hget, incr / incrby with `into`) run while
// the event is processed, one round trip each: the engine carries an event through the whole
// graph before the next one, so its result cannot wait for the batch. `pipeline: false` sends
// writes per event as well (an error then routes that event alone).
//
// Failures: a TransientError (lost connection, timeout, LOADING, refused connect) is retried
// `retries` times on a fresh connection (redis::Client::run), with a doubling backoff. Then,
// and for any other error (WRONGTYPE, a missing key field): on_error "fail" throws (the event
// takes the error route), "skip" lets the event go on unchanged and counts it. A buffered
// write fails at the end of the batch (BatchContext::fail): an error reply fails just the
// event whose command got it (the others were written); a round trip that still fails after
// its retries fails every event of the worker's batch. A failed event goes to the graph's
// dead-letter stage, rebuilt from its JSON (with on_error "fail" the stage keeps each buffered
// event's JSON until the end of the batch), or is nacked without one; after a stop it is only
// nacked. Retried writes are at least once, and a round trip that failed may have been
// partly applied.
//
// Thread safety: as Stage; per-worker buffers, the client is shared.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/redis/client.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/stage_registry.h>

namespace scopeflow {
namespace detail {
class KeyTemplate;
}

enum class RedisCommand : unsigned char { get, set, incr, incrby, hget, hset };
enum class RedisOnError : unsigned char { fail, skip };

// "get" -> RedisCommand::get; nullopt for an unknown name.
[[nodiscard]] std::optional<RedisCommand> parse_redis_command(std::string_view name) noexcept;
[[nodiscard]] std::string_view to_string(RedisCommand command) noexcept;

struct RedisStageOptions {
    std::shared_ptr<redis::Client> client;  // required
    RedisCommand command = RedisCommand::get;
    std::string key;    // required: template, "user:${user}"
    std::string field;  // hget/hset: the hash field (template); required there, refused elsewhere
    std::string value;  // set/hset: the event field written (required); incrby: the amount's field
    std::int64_t by = 1;               // incrby without `value`: the amount
    std::chrono::milliseconds ttl{0};  // set: PX; incr/incrby/hset: PEXPIRE after; 0: none
    std::string into;  // get/hget: required; incr/incrby: optional (then run per event)
    RedisOnError on_error = RedisOnError::fail;
    bool pipeline = true;  // buffer result-less writes and send them at end of batch
    redis::RetryOptions retry{.retries = 1, .backoff = std::chrono::milliseconds(20)};
};

class RedisStage final : public Stage {
public:
    // Throws ConfigError("<where>.<field>", ...) for inconsistent options.
    explicit RedisStage(RedisStageOptions options, const std::string& where = "redis");
    ~RedisStage() override;

    // Commands sent (each counted once, however many times retried).
    [[nodiscard]] std::uint64_t commands() const noexcept { return commands_.load(); }
    // Round trips made: one per pipelined batch or per-event command.
    [[nodiscard]] std::uint64_t round_trips() const noexcept { return round_trips_.load(); }
    // Events let through unchanged after an error (on_error: skip).
    [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_.load(); }
    [[nodiscard]] const redis::Client& client() const noexcept { return *options_.client; }

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_flush_batch(BatchContext& batch) override;

private:
    struct Worker;

    // Appends the command(s) for `event` to `batch`: 1, or 2 with a PEXPIRE. Returns 0 when the
    // event lacks a field the command needs (named in `missing`).
    std::size_t build(const Event& event,
                      Worker& worker,
                      redis::Batch& batch,
                      std::string_view& missing) const;
    ActionId run_now(Event& event, Worker& worker);
    // on_error: rethrows (fail) or counts and lets the event go on (skip).
    ActionId failed(std::exception_ptr error);
    // A buffered event's write failed: skip counts it; fail fails it through `batch` (nacks
    // it, with `nack_only`).
    void fail_buffered(BatchContext& batch,
                       Worker& w,
                       std::size_t index,
                       const std::string& reason,
                       bool nack_only);

    const RedisStageOptions options_;
    std::unique_ptr<detail::KeyTemplate> key_;
    std::unique_ptr<detail::KeyTemplate> field_;
    bool deferred_ = false;  // writes buffered until end of batch
    std::string ttl_text_;
    std::string by_text_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::atomic<std::uint64_t> commands_{0};
    std::atomic<std::uint64_t> round_trips_{0};
    std::atomic<std::uint64_t> skipped_{0};
};

// Registers the "redis" stage type. Its factory looks the client up in `resources` by the
// `resource` option (a std::shared_ptr<redis::Client> added there), so `resources` must
// outlive the registry's create() calls.
void register_redis_stages(StageRegistry& registry, const Resources& resources);

}  // namespace scopeflow
