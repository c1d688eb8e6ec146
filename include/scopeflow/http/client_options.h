// ClientOptions: how an HTTP client connects, times out, retries and identifies itself.
//
//   scopeflow::http::ClientOptions opts{
//       .name = "collector",
//       .base_url = "https://collector.internal:8443",
//       .connect_timeout = 2s,
//       .total_timeout = 10s,
//       .bearer_token = scopeflow::Secret::from_env("COLLECTOR_TOKEN", "resources.collector"),
//       .retry = {.max_attempts = 4},
//   };
//
// TLS peer and host verification are on unless verify_tls is false; there is no automatic
// fallback to an unverified connection. The bearer token travels only in the Authorization
// header: it never appears in a message, a log or a metric.
//
// validate_client_options() throws ConfigError("http.<name>.<field>", ...) for the first
// invalid field.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <scopeflow/http/message.h>
#include <scopeflow/core/secret.h>

namespace scopeflow::http {

// Retries of one Client::request(): connection errors, timeouts, 5xx, and 429 (honouring its
// Retry-After). 4xx other than 429 and TLS verification failures are never retried.
struct RetryOptions {
    int max_attempts = 3;                               // attempts in all (1: no retry)
    std::chrono::milliseconds initial_backoff{50};      // wait before the second attempt
    double multiplier = 2.0;                            // growth per attempt
    std::chrono::milliseconds max_backoff{2000};        // cap on one computed wait
    double jitter = 0.2;                                // +/- this fraction of each wait
    std::chrono::milliseconds max_retry_after{30'000};  // cap on a server's Retry-After
};

struct ClientOptions {
    std::string name{};                               // shown in errors and stats (required)
    std::optional<std::string> base_url{};            // prefixed to targets that start with '/'
    std::chrono::milliseconds connect_timeout{5000};  // TCP (+ TLS) connect, per attempt
    std::chrono::milliseconds total_timeout{30'000};  // whole transfer, per attempt
    std::size_t max_response_bytes = std::size_t{8} << 20;  // larger bodies abort the request
    bool verify_tls = true;                                 // CURLOPT_SSL_VERIFYPEER + VERIFYHOST
    std::string ca_file{};          // CA bundle (PEM) instead of the system one
    Headers default_headers{};      // sent with every request (before its own)
    Secret bearer_token{};          // "Authorization: Bearer ..." when not empty
    std::string user_agent{};       // empty: "scopeflow/<version>"
    bool reuse_connections = true;  // false: a new connection per request (tests, bench)
    RetryOptions retry{};
};

void validate_client_options(const ClientOptions& options);

}  // namespace scopeflow::http
