// Errors of the HTTP client, by what the caller does next.
//
//   TransientError (scopeflow)  connection refused/reset, timeout, a 5xx or 429 after the last
//                               retry (HttpUnavailableError): retry later
//   HttpStatusError             a 4xx (other than 429): the request is wrong, repeating it helps
//                               nobody
//   ResponseTooLargeError       the body passed ClientOptions::max_response_bytes
//   Error (scopeflow)           TLS verification failed, bad URL: fix the configuration
//
// Messages name the client, the method and the URL without userinfo or query
// ("http 'collector': POST http://127.0.0.1:8080/v1/events: 400 Bad Request"), never the bearer
// token.
//
//   try { client->request(scope, req); }
//   catch (const scopeflow::http::HttpStatusError& e) { if (e.status() == 404) ... }
#pragma once

#include <cstddef>
#include <string>

#include <scopeflow/core/error.h>

namespace scopeflow::http {

// A 4xx answer (not retried).
class HttpStatusError : public Error {
public:
    HttpStatusError(const std::string& message, int status)
        : Error(message),
          status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

// A 5xx or 429 answer that outlasted the retries: the server may recover, so it is transient.
class HttpUnavailableError : public TransientError {
public:
    HttpUnavailableError(const std::string& message, int status)
        : TransientError(message),
          status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

// The response body was larger than ClientOptions::max_response_bytes; the transfer was aborted.
class ResponseTooLargeError : public Error {
public:
    ResponseTooLargeError(const std::string& message, std::size_t limit)
        : Error(message),
          limit_(limit) {}
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

private:
    std::size_t limit_;
};

}  // namespace scopeflow::http
