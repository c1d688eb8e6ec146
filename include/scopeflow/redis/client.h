// redis::Client: a Redis pool with the retry rule built in: a transient failure (lost
// connection, timeout, LOADING, a refused connect) is retried on a fresh connection, by default
// once. This is what stages and services share through scopeflow::Resources.
//
//   auto client = std::make_shared<redis::Client>(
//       PoolOptions{.name = "cache", .max_size = 8},
//       redis::ConnectionOptions{.host = "127.0.0.1", .port = 6379, .password = pw});
//   resources.add("cache", client);
//
//   redis::Reply r = client->command(task_scope, {"GET", key});
//   std::int64_t n = client->run(task_scope, [&](redis::Connection& c) {
//       return c.command({"INCR", key}).integer();
//   });
//
// run(owner, fn, retry): leases a connection for `owner` (tracked in its ledger), calls
// fn(connection) and returns its result. If fn (or the acquire) throws a TransientError, the
// lease is returned (the pool discards a connection that broke) and fn runs again, up to
// retry.retries more times, after retry.backoff (doubling each time, up to max_backoff), on a
// connection proven by a PING first; so a server-side kill costs the caller nothing and a
// restart costs it a wait. Any other error propagates at once. Commands are therefore run at
// least once: a retried INCR may count twice if the connection died after the server ran it.
// A stop of `owner` during a backoff throws CancelledError.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/pool/pool.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/redis/batch.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/connection_options.h>
#include <scopeflow/redis/connection_pool.h>
#include <scopeflow/redis/reply.h>

namespace scopeflow::redis {

struct RetryOptions {
    int retries = 1;                              // extra attempts after a TransientError
    std::chrono::milliseconds backoff{0};         // wait before the first retry, then doubled
    std::chrono::milliseconds max_backoff{1000};  // cap on one wait
};

class Client {
public:
    Client(PoolOptions pool, ConnectionOptions connection)
        : pool_(make_pool(std::move(pool), std::move(connection))) {}
    explicit Client(std::shared_ptr<RedisPool> pool);
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    template <typename F>
    decltype(auto) run(Scope& owner,
                       F&& fn,
                       RetryOptions retry = {},
                       std::source_location site = std::source_location::current()) {
        std::chrono::milliseconds wait = retry.backoff;
        for (int attempt = 0;; ++attempt) {
            try {
                // Movable: acquire_for may swap in another connection. A connection that broke
                // during fn is discarded by the pool's broken hook when the lease returns.
                RedisPool::Lease lease = acquire_for(owner, attempt > 0, site);
                return fn(*lease);
            } catch (const CancelledError&) {
                throw;
            } catch (const TransientError&) {
                if (attempt >= retry.retries || owner.stop_token().stop_requested()) {
                    throw;
                }
            }
            retries_.fetch_add(1, std::memory_order_relaxed);
            if (wait.count() > 0) {
                sleep_for(wait, owner);
                wait = std::min(wait * 2, retry.max_backoff);
            }
        }
    }

    // One command with the default retry; error replies throw (see Connection::command).
    Reply command(Scope& owner,
                  std::initializer_list<std::string_view> args,
                  std::source_location site = std::source_location::current());
    // A pipelined batch with the default retry (the whole batch is sent again). Error replies
    // are returned, not thrown.
    std::vector<Reply> exec(Scope& owner,
                            const Batch& batch,
                            std::source_location site = std::source_location::current());
    // True when a connection can be leased and answers PING (for readiness checks). Never
    // retries, never throws except CancelledError.
    bool ping(Scope& owner);

    // Times run() retried (all callers).
    [[nodiscard]] std::uint64_t retries() const noexcept {
        return retries_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] PoolStats stats() const { return pool_->stats(); }
    [[nodiscard]] const std::string& name() const noexcept { return pool_->name(); }
    [[nodiscard]] const std::shared_ptr<RedisPool>& pool() const noexcept { return pool_; }
    // Closes the pool (see Pool::close).
    PoolCloseReport close(std::chrono::milliseconds deadline) { return pool_->close(deadline); }

private:
    // A lease; with `verify`, one whose connection answered PING (others are discarded).
    RedisPool::Lease acquire_for(Scope& owner, bool verify, const std::source_location& site);
    // Waits `d` or until owner's stop (then throws CancelledError).
    void sleep_for(std::chrono::milliseconds d, Scope& owner);

    std::shared_ptr<RedisPool> pool_;
    std::atomic<std::uint64_t> retries_{0};
};

}  // namespace scopeflow::redis
