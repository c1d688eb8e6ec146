// Client: an HTTP client resource: a pool of sessions (kept-alive connections) plus retries.
//
// This is what a pipeline registers in scopeflow::Resources and what the http_post stage uses.
// Each request leases a session from the pool (reusing its connection), performs one attempt,
// and returns the session; between attempts it waits with exponential backoff and jitter,
// holding no session and watching the caller's stop token.
//
//   auto api = scopeflow::http::Client::create(
//       {.name = "collector", .base_url = "http://127.0.0.1:8080", .total_timeout = 5s},
//       {.max_size = 4, .acquire_timeout = 2s});
//   resources.add("collector", api);
//   scopeflow::http::Response r = api->post(task_scope, "/v1/events", body);   // 2xx or throws
//
// Errors (errors.h): a 4xx throws HttpStatusError at once; connection errors, timeouts, 5xx and
// 429 are retried up to retry.max_attempts, then throw TransientError (HttpUnavailableError for
// a status). A 1xx-3xx answer is returned. Pool exhaustion throws TransientError naming the pool.
//
// http::make_pool() is the pool alone, for callers that drive sessions themselves: it opens
// sessions lazily, names the pool after the client when PoolOptions::name is empty, and its
// broken hook (a flag check, no I/O) discards a session that marked itself broken when it is
// returned, so it is never handed out again.
//
// Thread safety: every Client member may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>

#include <scopeflow/http/client_options.h>
#include <scopeflow/http/errors.h>
#include <scopeflow/http/message.h>
#include <scopeflow/http/session.h>
#include <scopeflow/pool/pool.h>
#include <scopeflow/pool/pool_options.h>

namespace scopeflow {
class Scope;
}

namespace scopeflow::http {

using SessionPool = Pool<Session>;

// A pool of sessions for `client`; validates both option sets (ConfigError).
[[nodiscard]] std::shared_ptr<SessionPool> make_pool(PoolOptions pool, ClientOptions client);

[[deprecated("use http::make_pool")]] inline std::shared_ptr<SessionPool> make_http_pool(
    PoolOptions pool, ClientOptions client) {
    return make_pool(std::move(pool), std::move(client));
}

struct ClientStats {
    std::uint64_t requests = 0;            // request() calls
    std::uint64_t attempts = 0;            // sessions' perform() calls
    std::uint64_t retries = 0;             // attempts beyond the first
    std::uint64_t failures = 0;            // request() calls that threw
    std::uint64_t connections_opened = 0;  // new TCP connections, all sessions together
};

class Client {
    struct PrivateTag {
        explicit PrivateTag() = default;
    };

public:
    [[nodiscard]] static std::shared_ptr<Client> create(ClientOptions options,
                                                        PoolOptions pool = {});
    Client(PrivateTag, ClientOptions options, PoolOptions pool);
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Performs `request` with retries; the session lease is tracked in `owner`. Returns the
    // response (status < 400) or throws (see above). CancelledError if `stop` fires during a
    // backoff.
    Response request(Scope& owner, const Request& request, std::stop_token stop = {});
    Response get(Scope& owner, std::string target, std::stop_token stop = {});
    Response post(Scope& owner,
                  std::string target,
                  std::string body,
                  std::string content_type = "application/json",
                  std::stop_token stop = {});

    [[nodiscard]] const std::string& name() const noexcept { return options_.name; }
    [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }
    [[nodiscard]] const std::shared_ptr<Pool<Session>>& pool() const noexcept { return pool_; }
    [[nodiscard]] PoolStats pool_stats() const { return pool_->stats(); }
    [[nodiscard]] ClientStats stats() const noexcept;
    // Closes the pool: waits up to `deadline` for leases, reports those still out.
    PoolCloseReport close(std::chrono::milliseconds deadline) { return pool_->close(deadline); }

private:
    // The wait before attempt `attempt` (2-based), or the server's Retry-After if longer.
    [[nodiscard]] std::chrono::milliseconds backoff(int attempt,
                                                    std::chrono::milliseconds retry_after) const;

    const ClientOptions options_;
    std::shared_ptr<Pool<Session>> pool_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> attempts_{0};
    std::atomic<std::uint64_t> retries_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> connections_{0};
};

}  // namespace scopeflow::http
