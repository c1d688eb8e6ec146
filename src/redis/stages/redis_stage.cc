#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/redis/errors.h>
#include <scopeflow/redis/stages/redis_stage.h>

#include "redis/stages/key_template.h"

namespace scopeflow {

struct RedisStage::Worker {
    // One buffered event: its commands in `pending` and, to fail it alone, its JSON.
    struct Buffered {
        std::uint64_t sequence = 0;
        std::size_t commands = 0;    // 1, or 2 with a PEXPIRE
        std::size_t json_begin = 0;  // in `json` (on_error: fail only)
        std::size_t json_end = 0;
    };
    Scope* scope = nullptr;  // the stage's worker scope: owns the leases of this worker
    redis::Batch pending;    // buffered writes, sent at end of batch
    std::vector<Buffered> events;
    std::string json;  // the buffered events, back to back (on_error: fail only)
    redis::Batch now;  // the command(s) of one event run at once
    std::vector<redis::Reply> replies;
    std::string key;
    std::string field;
    std::string value;
    EventParser parser;  // rebuilds failed events from `json`
};

namespace {

constexpr std::string_view kNames[] = {"get", "set", "incr", "incrby", "hget", "hset"};

bool is_hash(RedisCommand c) {
    return c == RedisCommand::hget || c == RedisCommand::hset;
}
bool is_read(RedisCommand c) {
    return c == RedisCommand::get || c == RedisCommand::hget;
}
bool writes_value(RedisCommand c) {
    return c == RedisCommand::set || c == RedisCommand::hset;
}

// The command name in upper case, for messages and the wire.
std::string_view wire_name(RedisCommand c) {
    switch (c) {
        case RedisCommand::get:
            return "GET";
        case RedisCommand::set:
            return "SET";
        case RedisCommand::incr:
            return "INCR";
        case RedisCommand::incrby:
            return "INCRBY";
        case RedisCommand::hget:
            return "HGET";
        case RedisCommand::hset:
            return "HSET";
    }
    return "?";
}

// Throws the first error reply of `replies` as Connection::check would; transient ones
// (LOADING, ...) first, so a batch with any of them is retried whole.
void throw_first_transient(const redis::Connection& c, const std::vector<redis::Reply>& replies) {
    for (const redis::Reply& r : replies) {
        if (r.is_error() && redis::is_transient_code(redis::error_code(r.str()))) {
            c.check(r, "pipeline");
        }
    }
}

}  // namespace

std::optional<RedisCommand> parse_redis_command(std::string_view name) noexcept {
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
        if (kNames[i] == name) {
            return static_cast<RedisCommand>(i);
        }
    }
    return std::nullopt;
}

std::string_view to_string(RedisCommand command) noexcept {
    return kNames[static_cast<std::size_t>(command)];
}

RedisStage::RedisStage(RedisStageOptions options, const std::string& where)
    : Stage("redis"),
      options_(std::move(options)) {
    const RedisCommand c = options_.command;
    const std::string name(to_string(c));
    if (options_.client == nullptr) {
        throw ConfigError(where + ".resource", "a redis client is required");
    }
    if (options_.key.empty()) {
        throw ConfigError(where + ".key", "is required");
    }
    key_ = std::make_unique<detail::KeyTemplate>(
        detail::KeyTemplate::parse(options_.key, where + ".key"));
    if (is_hash(c)) {
        if (options_.field.empty()) {
            throw ConfigError(where + ".field", "is required for " + name);
        }
        field_ = std::make_unique<detail::KeyTemplate>(
            detail::KeyTemplate::parse(options_.field, where + ".field"));
    } else if (!options_.field.empty()) {
        throw ConfigError(where + ".field", "applies to hget and hset only, not " + name);
    }
    if (writes_value(c) && options_.value.empty()) {
        throw ConfigError(where + ".value", "is required for " + name + " (the field written)");
    }
    if (!writes_value(c) && c != RedisCommand::incrby && !options_.value.empty()) {
        throw ConfigError(where + ".value", "applies to set, hset and incrby only, not " + name);
    }
    if (is_read(c) && options_.into.empty()) {
        throw ConfigError(where + ".into", "is required for " + name + " (where the result goes)");
    }
    if (writes_value(c) && !options_.into.empty()) {
        throw ConfigError(where + ".into", name + " has no result to store");
    }
    if (options_.ttl.count() < 0) {
        throw ConfigError(where + ".ttl_ms", "must not be negative");
    }
    if (is_read(c) && options_.ttl.count() > 0) {
        throw ConfigError(where + ".ttl_ms", "does not apply to " + name);
    }
    if (options_.retry.retries < 0) {
        throw ConfigError(where + ".retries", "must not be negative");
    }
    deferred_ = options_.pipeline && options_.into.empty() && !is_read(c);
    if (options_.ttl.count() > 0) {
        ttl_text_ = std::to_string(options_.ttl.count());
    }
    by_text_ = std::to_string(options_.by);
}

RedisStage::~RedisStage() = default;

void RedisStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    workers_.clear();
    for (std::size_t i = 0; i < workers; ++i) {
        workers_.push_back(std::make_unique<Worker>());
    }
}

void RedisStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    workers_[worker_index]->scope = &worker_scope;
}

std::size_t RedisStage::build(const Event& event,
                              Worker& w,
                              redis::Batch& batch,
                              std::string_view& missing) const {
    const RedisCommand c = options_.command;
    if (!key_->render(event, w.key, missing)) {
        return 0;
    }
    if (field_ != nullptr && !field_->render(event, w.field, missing)) {
        return 0;
    }
    if (!options_.value.empty()) {
        w.value.clear();
        const Value* v = event.find(options_.value);
        if (v == nullptr || !detail::append_text(*v, w.value)) {
            missing = options_.value;
            return 0;
        }
    }
    const bool ttl = !ttl_text_.empty();
    switch (c) {
        case RedisCommand::get:
            batch.add({"GET", w.key});
            return 1;
        case RedisCommand::hget:
            batch.add({"HGET", w.key, w.field});
            return 1;
        case RedisCommand::set:
            if (ttl) {
                batch.add({"SET", w.key, w.value, "PX", ttl_text_});
            } else {
                batch.add({"SET", w.key, w.value});
            }
            return 1;
        case RedisCommand::incr:
            batch.add({"INCR", w.key});
            break;
        case RedisCommand::incrby:
            batch.add({"INCRBY", w.key, options_.value.empty() ? by_text_ : w.value});
            break;
        case RedisCommand::hset:
            batch.add({"HSET", w.key, w.field, w.value});
            break;
    }
    if (ttl) {
        batch.add({"PEXPIRE", w.key, ttl_text_});
        return 2;
    }
    return 1;
}

ActionId RedisStage::failed(std::exception_ptr error) {
    if (options_.on_error == RedisOnError::skip) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        return kActionDefault;
    }
    std::rethrow_exception(error);
}

ActionId RedisStage::on_process(Event& event, TaskContext& task) {
    Worker& w = *workers_[task.worker_index()];
    if (deferred_) {
        std::string_view missing;
        const std::size_t n = build(event, w, w.pending, missing);
        if (n == 0) {
            return failed(std::make_exception_ptr(
                Error("stage 'redis': the event has no field '" + std::string(missing) +
                      "' (or it is null) for " + std::string(wire_name(options_.command)))));
        }
        Worker::Buffered& b = w.events.emplace_back();
        b.sequence = task.sequence();
        b.commands = n;
        if (options_.on_error == RedisOnError::fail) {
            b.json_begin = w.json.size();
            append_json(event, w.json);
            b.json_end = w.json.size();
        }
        return kActionDefault;
    }
    try {
        return run_now(event, w);
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
        return failed(std::current_exception());
    }
}

ActionId RedisStage::run_now(Event& event, Worker& w) {
    w.now.clear();
    std::string_view missing;
    const std::size_t n = build(event, w, w.now, missing);
    if (n == 0) {
        throw Error("stage 'redis': the event has no field '" + std::string(missing) +
                    "' (or it is null) for " + std::string(wire_name(options_.command)));
    }
    options_.client->run(
        *w.scope,
        [&](redis::Connection& c) {
            round_trips_.fetch_add(1, std::memory_order_relaxed);
            c.exec(w.now, w.replies);
            for (const redis::Reply& r : w.replies) {
                c.check(r, wire_name(options_.command));
            }
        },
        options_.retry);
    commands_.fetch_add(n, std::memory_order_relaxed);
    if (!options_.into.empty()) {
        const redis::Reply& r = w.replies.front();
        Value& into = event.get_or_add(options_.into);
        if (r.is_string()) {
            into.set_string(r.str());
        } else if (r.is_integer()) {
            into.set_int(r.integer());
        } else {
            into.set_null();
        }
    }
    return kActionDefault;
}

void RedisStage::on_flush_batch(BatchContext& batch) {
    Worker& w = *workers_[batch.worker_index()];
    if (w.pending.empty()) {
        return;
    }
    const auto clear = ScopeGuard([&w] {
        w.pending.clear();  // written or failed: never carried into the next batch
        w.events.clear();
        w.json.clear();
    });
    auto where = [&] { return "stage 'redis' on " + options_.client->name() + ": "; };
    try {
        options_.client->run(
            *w.scope,
            [&](redis::Connection& c) {
                round_trips_.fetch_add(1, std::memory_order_relaxed);
                c.exec(w.pending, w.replies);
                throw_first_transient(c, w.replies);  // LOADING & co: the whole batch again
            },
            options_.retry);
    } catch (const std::exception& e) {
        // Retries exhausted (or a stop): none of the batch's writes is known to be in Redis.
        const bool stopped = dynamic_cast<const CancelledError*>(&e) != nullptr ||
                             batch.stop_token().stop_requested();
        const std::string reason = where() + std::to_string(w.pending.size()) +
                                   " buffered commands not written: " + e.what();
        for (std::size_t i = 0; i < w.events.size(); ++i) {
            fail_buffered(batch, w, i, reason, stopped);
        }
        return;
    }
    commands_.fetch_add(w.pending.size(), std::memory_order_relaxed);
    // Each event whose command(s) got an error reply fails alone; the others were written.
    std::size_t reply = 0;
    for (std::size_t i = 0; i < w.events.size(); ++i) {
        std::optional<std::string> error;
        for (std::size_t k = 0; k < w.events[i].commands && reply < w.replies.size(); ++k) {
            const redis::Reply& r = w.replies[reply++];
            if (!error && r.is_error()) {
                error = std::string(r.str());
            }
        }
        if (error) {
            fail_buffered(batch, w, i,
                          where() + std::string(wire_name(options_.command)) + " failed: " + *error,
                          false);
        }
    }
}

void RedisStage::fail_buffered(
    BatchContext& batch, Worker& w, std::size_t index, const std::string& reason, bool nack_only) {
    const Worker::Buffered& b = w.events[index];
    if (options_.on_error == RedisOnError::skip) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (nack_only) {
        batch.nack(b.sequence, reason);
        return;
    }
    // The event as process() saw it, back from its JSON, for the dead-letter stage.
    Event e;
    const std::string_view json =
        std::string_view(w.json).substr(b.json_begin, b.json_end - b.json_begin);
    if (!w.parser.parse(json, e)) {
        e.clear();
        e.set("_body", Value(std::string(json)));
    }
    e.meta().sequence = b.sequence;
    batch.fail(std::move(e), reason);
}

}  // namespace scopeflow
