// Parsing of an HTTP/1.x request head (request line and header fields), for the server.
// Private to src/http.
#pragma once

#include <cstddef>
#include <string_view>

#include <scopeflow/http/message.h>

namespace scopeflow::http::detail {

struct RequestHead {
    std::size_t content_length = 0;
    bool keep_alive = true;        // the connection may carry another request afterwards
    bool expect_continue = false;  // "Expect: 100-continue"
    int minor_version = 1;         // HTTP/1.<minor>
};

// Where the head ends in `buffer`: the offset just past the empty line ("\r\n\r\n", or "\n\n"
// from lenient clients), or npos if it is not complete yet.
[[nodiscard]] std::size_t find_head_end(std::string_view buffer) noexcept;

// False when the bytes received so far cannot start an HTTP request (the method must be a
// short token): a TLS handshake or binary garbage is refused at once instead of waiting for a
// head that will never come.
[[nodiscard]] bool plausible_request_start(std::string_view buffer) noexcept;

// Parses `head` (request line and fields, as located by find_head_end) into `out` (method,
// target, headers) and `info`. Returns 0, or the status to answer with: 400 malformed, 411
// Transfer-Encoding (only Content-Length bodies are read), 414 target too long, 505 not
// HTTP/1.x.
[[nodiscard]] int parse_request_head(std::string_view head, Request& out, RequestHead& info);

}  // namespace scopeflow::http::detail
