// Session: one libcurl easy handle, kept open across requests so its connection is reused.
//
// A session is what an HTTP pool holds (http::make_pool, client.h): leasing the same session
// again reuses its open TCP (and TLS) connection instead of opening a new one, the "session
// reuse" of the seed. perform() is a single attempt; retries live in Client::request().
//
//   auto options = std::make_shared<const scopeflow::http::ClientOptions>(
//       scopeflow::http::ClientOptions{.name = "api", .base_url = "http://127.0.0.1:8080"});
//   scopeflow::http::Session s = scopeflow::http::Session::open(options);
//   scopeflow::http::Response r = s.perform({.method = "GET", .target = "/healthz"});
//   s.connections_opened();   // 1, however many requests followed on the same connection
//
// Behaviour:
// - Any status is returned as a Response (4xx and 5xx included); perform() throws only when no
//   complete response arrived: TransientError for a refused/reset connection or a timeout
//   (the session then marks itself broken so a pool discards it), ResponseTooLargeError past
//   max_response_bytes (also broken: the connection was cut mid-body), Error for a failed TLS
//   verification or a malformed URL. Messages name the session and the URL without userinfo
//   or query, and go through redact() with the bearer token.
// - Redirects are not followed (a 3xx is returned as is). "Expect: 100-continue" is never sent.
// - libcurl's global state is initialised once per process, on the first open(), thread-safely.
//
// Thread safety: none; a session is used by one thread at a time (a pool lease guarantees it).
// It is move-only; close() (curl_easy_cleanup) is idempotent and the destructor calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <scopeflow/http/client_options.h>
#include <scopeflow/http/message.h>

namespace scopeflow::http {

class Session {
public:
    // Creates the easy handle and applies the options; connects nothing until perform().
    // Throws Error if libcurl cannot create a handle.
    [[nodiscard]] static Session open(std::shared_ptr<const ClientOptions> options);

    Session() noexcept;  // an empty (closed) session
    Session(Session&& other) noexcept;
    Session& operator=(Session&& other) noexcept;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    // One request, one attempt (see above).
    Response perform(const Request& request);

    // The absolute URL of `target`: base_url + target when target starts with '/'.
    [[nodiscard]] std::string resolve(std::string_view target) const;

    // True after a connection-level failure: the session must not be reused (http::make_pool's
    // broken hook checks it).
    [[nodiscard]] bool broken() const noexcept;
    void mark_broken() noexcept;
    // New connections this session had to open so far (CURLINFO_NUM_CONNECTS, summed).
    [[nodiscard]] std::uint64_t connections_opened() const noexcept;
    // perform() calls that got a response.
    [[nodiscard]] std::uint64_t responses() const noexcept;
    [[nodiscard]] bool is_open() const noexcept;
    [[nodiscard]] const ClientOptions& options() const noexcept;

    // Closes the handle and its connections. Idempotent, never throws.
    void close() noexcept;

private:
    struct Impl;
    explicit Session(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scopeflow::http
