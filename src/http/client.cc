#include <algorithm>
#include <charconv>
#include <random>
#include <string>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/secret.h>
#include <scopeflow/http/client.h>

namespace scopeflow::http {
namespace {

std::string field(const ClientOptions& o, const char* name) {
    return "http." + (o.name.empty() ? std::string("<unnamed>") : o.name) + "." + name;
}

double unit_random() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// Retry-After in seconds (the HTTP-date form is ignored: the backoff applies).
std::chrono::milliseconds retry_after(const Response& r) {
    const auto v = r.headers.get("Retry-After");
    if (!v) {
        return std::chrono::milliseconds::zero();
    }
    long long seconds = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seconds);
    if (ec != std::errc() || end != v->data() + v->size() || seconds < 0) {
        return std::chrono::milliseconds::zero();
    }
    return std::chrono::seconds(std::min(seconds, 86'400LL));
}

bool retryable_status(int status) {
    return status >= 500 || status == 429;
}

// Up to 200 printable bytes of a body, for error messages.
std::string snippet(std::string_view body) {
    std::string out;
    for (const char c : body.substr(0, 200)) {
        out += (c >= 0x20 && c < 0x7f) ? c : ' ';
    }
    if (body.size() > 200) {
        out += "...";
    }
    return out;
}

}  // namespace

void validate_client_options(const ClientOptions& o) {
    if (o.name.empty()) {
        throw ConfigError(field(o, "name"), "a client needs a name");
    }
    if (o.base_url && !o.base_url->starts_with("http://") && !o.base_url->starts_with("https://")) {
        throw ConfigError(field(o, "base_url"), "must start with http:// or https://, got '" +
                                                    safe_url(*o.base_url) + "'");
    }
    if (o.connect_timeout.count() <= 0) {
        throw ConfigError(field(o, "connect_timeout"), "must be positive");
    }
    if (o.total_timeout.count() <= 0) {
        throw ConfigError(field(o, "total_timeout"), "must be positive");
    }
    if (o.max_response_bytes == 0) {
        throw ConfigError(field(o, "max_response_bytes"), "must be at least 1");
    }
    if (o.retry.max_attempts < 1) {
        throw ConfigError(field(o, "retry.max_attempts"), "must be at least 1");
    }
    if (o.retry.initial_backoff.count() < 0 || o.retry.max_backoff < o.retry.initial_backoff) {
        throw ConfigError(field(o, "retry.max_backoff"),
                          "backoffs must be >= 0 and max_backoff >= initial_backoff");
    }
    if (o.retry.multiplier < 1.0) {
        throw ConfigError(field(o, "retry.multiplier"), "must be at least 1");
    }
    if (o.retry.jitter < 0.0 || o.retry.jitter >= 1.0) {
        throw ConfigError(field(o, "retry.jitter"), "must be in [0, 1)");
    }
    for (const auto& h : o.default_headers) {
        if (h.name.empty() || h.name.find_first_of(":\r\n ") != std::string::npos ||
            h.value.find_first_of("\r\n") != std::string::npos) {
            throw ConfigError(field(o, "default_headers"), "invalid header '" + h.name + "'");
        }
    }
}

std::shared_ptr<SessionPool> make_pool(PoolOptions pool, ClientOptions client) {
    validate_client_options(client);
    if (pool.name.empty()) {
        pool.name = client.name;
    }
    // Validation is a flag check (broken()), so it runs on every borrow: a session that failed
    // is never handed out again, even if its holder forgot lease.mark_broken().
    pool.validate_if_idle_for = std::chrono::milliseconds::zero();
    auto shared = std::make_shared<const ClientOptions>(std::move(client));
    return SessionPool::create(std::move(pool),
                               {.connect = [shared] { return Session::open(shared); },
                                .validate = [](Session& s) { return !s.broken(); },
                                .close = [](Session& s) { s.close(); },
                                .broken = [](const Session& s) { return s.broken(); }});
}

std::shared_ptr<Client> Client::create(ClientOptions options, PoolOptions pool) {
    validate_client_options(options);
    return std::make_shared<Client>(PrivateTag{}, std::move(options), std::move(pool));
}

Client::Client(PrivateTag, ClientOptions options, PoolOptions pool)
    : options_(std::move(options)),
      pool_(make_pool(std::move(pool), options_)) {}

ClientStats Client::stats() const noexcept {
    return {.requests = requests_.load(std::memory_order_relaxed),
            .attempts = attempts_.load(std::memory_order_relaxed),
            .retries = retries_.load(std::memory_order_relaxed),
            .failures = failures_.load(std::memory_order_relaxed),
            .connections_opened = connections_.load(std::memory_order_relaxed)};
}

std::chrono::milliseconds Client::backoff(int attempt,
                                          std::chrono::milliseconds retry_after_hint) const {
    const RetryOptions& r = options_.retry;
    auto base = static_cast<double>(r.initial_backoff.count());
    for (int i = 2; i < attempt; ++i) {
        base *= r.multiplier;
    }
    base = std::min(base, static_cast<double>(r.max_backoff.count()));
    const double factor = 1.0 + r.jitter * (2.0 * unit_random() - 1.0);
    const auto computed = std::chrono::milliseconds(static_cast<std::int64_t>(base * factor));
    return std::max(computed, std::min(retry_after_hint, r.max_retry_after));
}

Response Client::request(Scope& owner, const Request& request, std::stop_token stop) {
    requests_.fetch_add(1, std::memory_order_relaxed);
    const int max_attempts = options_.retry.max_attempts;
    try {
        for (int attempt = 1;; ++attempt) {
            if (attempt > 1) {
                retries_.fetch_add(1, std::memory_order_relaxed);
            }
            std::chrono::milliseconds wait{0};
            bool retry = false;
            std::string url;
            {
                auto lease = pool_->acquire(owner);
                url = lease->resolve(request.target);
                const std::uint64_t before = lease->connections_opened();
                attempts_.fetch_add(1, std::memory_order_relaxed);
                Response response;
                try {
                    response = lease->perform(request);
                } catch (const TransientError&) {
                    connections_.fetch_add(lease->connections_opened() - before,
                                           std::memory_order_relaxed);
                    lease.mark_broken();
                    if (attempt >= max_attempts || stop.stop_requested()) {
                        throw;
                    }
                    wait = backoff(attempt + 1, std::chrono::milliseconds::zero());
                    retry = true;
                } catch (...) {  // a session that broke is discarded by the broken hook
                    connections_.fetch_add(lease->connections_opened() - before,
                                           std::memory_order_relaxed);
                    throw;
                }
                if (!retry) {
                    connections_.fetch_add(lease->connections_opened() - before,
                                           std::memory_order_relaxed);
                    const std::string what = "http '" + options_.name + "': " + request.method +
                                             " " + safe_url(url) + ": " +
                                             std::to_string(response.status) + " " +
                                             std::string(reason_phrase(response.status));
                    if (retryable_status(response.status)) {
                        if (attempt >= max_attempts || stop.stop_requested()) {
                            throw HttpUnavailableError(
                                redact(what + " after " + std::to_string(attempt) + " attempt(s)",
                                       options_.bearer_token),
                                response.status);
                        }
                        wait = backoff(attempt + 1, retry_after(response));
                        retry = true;
                    } else if (response.status >= 400) {
                        std::string msg = what;
                        if (!response.body.empty()) {
                            msg += ": " + snippet(response.body);
                        }
                        throw HttpStatusError(redact(msg, options_.bearer_token), response.status);
                    } else {
                        return response;
                    }
                }
            }  // the session goes back to the pool before the wait
            if (!sleep_for(wait, stop)) {
                throw CancelledError("http '" + options_.name + "': " + request.method + " " +
                                     safe_url(url) + ": stopped while backing off");
            }
        }
    } catch (...) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        throw;
    }
}

Response Client::get(Scope& owner, std::string target, std::stop_token stop) {
    return request(owner, {.method = "GET", .target = std::move(target)}, std::move(stop));
}

Response Client::post(Scope& owner,
                      std::string target,
                      std::string body,
                      std::string content_type,
                      std::stop_token stop) {
    Request req{.method = "POST", .target = std::move(target), .body = std::move(body)};
    req.headers.add("Content-Type", std::move(content_type));
    return request(owner, req, std::move(stop));
}

}  // namespace scopeflow::http
