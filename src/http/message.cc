#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include <scopeflow/http/message.h>

namespace scopeflow::http {
namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

void Headers::set(std::string_view name, std::string value) {
    erase(name);
    fields_.push_back({std::string(name), std::move(value)});
}

std::size_t Headers::erase(std::string_view name) {
    return std::erase_if(fields_, [&](const Header& h) { return iequals(h.name, name); });
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& h : fields_) {
        if (iequals(h.name, name)) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

std::string_view Request::path() const noexcept {
    const std::string_view t(target);
    return t.substr(0, t.find('?'));
}

std::string_view Request::query() const noexcept {
    const std::string_view t(target);
    const auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

Response Response::text(int status, std::string body, std::string content_type) {
    Response r{.status = status, .headers = {}, .body = std::move(body)};
    r.headers.add("Content-Type", std::move(content_type));
    return r;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

std::string safe_url(std::string_view url) {
    const auto cut = url.find_first_of("?#");
    if (cut != std::string_view::npos) {
        url = url.substr(0, cut);
    }
    const auto scheme = url.find("://");
    const std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
    const auto path = url.find('/', authority);
    const std::string_view host_part =
        url.substr(authority, path == std::string_view::npos ? url.npos : path - authority);
    const auto at = host_part.rfind('@');
    if (at == std::string_view::npos) {
        return std::string(url);
    }
    std::string out(url.substr(0, authority));
    out += host_part.substr(at + 1);
    if (path != std::string_view::npos) {
        out += url.substr(path);
    }
    return out;
}

}  // namespace scopeflow::http
