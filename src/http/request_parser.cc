#include "http/request_parser.h"

#include <charconv>
#include <string>
#include <string_view>

namespace scopeflow::http::detail {
namespace {

constexpr std::size_t kMaxTarget = 8192;

// RFC 9110 tchar: the characters of a method or a header name.
bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (!is_tchar(c)) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Next line without its "\n" or "\r\n"; advances `rest`.
std::string_view next_line(std::string_view& rest) noexcept {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.ends_with('\r')) {
        line.remove_suffix(1);
    }
    return line;
}

bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) {
            return true;
        }
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
    return false;
}

bool valid_target(std::string_view t) noexcept {
    if (t.empty() || t.front() != '/') {
        return false;
    }
    for (const char c : t) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::size_t find_head_end(std::string_view buffer) noexcept {
    for (std::size_t i = buffer.find('\n'); i != std::string_view::npos;
         i = buffer.find('\n', i + 1)) {
        if (i + 1 < buffer.size() && buffer[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::string_view::npos;
}

bool plausible_request_start(std::string_view buffer) noexcept {
    constexpr std::size_t kMaxMethod = 32;
    const auto sp = buffer.find(' ');
    const std::string_view method = buffer.substr(0, sp);
    if (method.size() > kMaxMethod || (sp != std::string_view::npos && method.empty())) {
        return false;
    }
    for (const char c : method) {
        if (!is_tchar(c)) {
            return false;
        }
    }
    return true;
}

int parse_request_head(std::string_view head, Request& out, RequestHead& info) {
    std::string_view rest = head;
    std::string_view line = next_line(rest);
    // Request line: METHOD SP target SP HTTP/1.x
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return 400;
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method)) {
        return 400;
    }
    if (target.size() > kMaxTarget) {
        return 414;
    }
    if (!valid_target(target)) {
        return 400;
    }
    if (!version.starts_with("HTTP/")) {
        return 400;
    }
    if (version == "HTTP/1.1") {
        info.minor_version = 1;
    } else if (version == "HTTP/1.0") {
        info.minor_version = 0;
    } else {
        return 505;
    }
    out.method = std::string(method);
    out.target = std::string(target);
    out.headers.clear();
    info.keep_alive = info.minor_version == 1;
    bool have_length = false;
    while (!rest.empty()) {
        line = next_line(rest);
        if (line.empty()) {
            break;  // the end of the head
        }
        if (line.front() == ' ' || line.front() == '\t') {
            return 400;  // obsolete line folding
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            return 400;
        }
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        for (const char c : value) {
            if (c == '\0' || c == '\r' || c == '\n') {
                return 400;
            }
        }
        if (iequals(name, "Content-Length")) {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
                (have_length && n != info.content_length)) {
                return 400;
            }
            info.content_length = n;
            have_length = true;
        } else if (iequals(name, "Transfer-Encoding")) {
            return 411;
        } else if (iequals(name, "Connection")) {
            if (has_token(value, "close")) {
                info.keep_alive = false;
            } else if (has_token(value, "keep-alive")) {
                info.keep_alive = true;
            }
        } else if (iequals(name, "Expect")) {
            info.expect_continue = iequals(value, "100-continue");
        }
        out.headers.add(std::string(name), std::string(value));
    }
    return 0;
}

}  // namespace scopeflow::http::detail
