// HTTP messages shared by the client (session.h, client.h) and the embedded server (server.h):
// Headers, Request and Response as plain values.
//
//   scopeflow::http::Request req{.method = "POST", .target = "/v1/events", .body = json};
//   req.headers.set("Content-Type", "application/json");
//   scopeflow::http::Response r = client->request(scope, req);
//   if (auto ct = r.headers.get("content-type")) ...   // names compare case-insensitively
//
// Request::target is what goes on the request line: a path with an optional query
// ("/v1/events?x=1"), or, for the client only, an absolute URL ("http://host:8080/v1/events").
// The server fills Request::peer and gives handlers a stop token that fires when it closes.
//
// Thread safety: values; one owner at a time.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopeflow::http {

struct Header {
    std::string name;
    std::string value;
};

// An ordered list of header fields. Lookups ignore the case of names (RFC 9110); add() keeps
// duplicates (Set-Cookie), set() replaces every field of that name.
class Headers {
public:
    Headers() = default;
    Headers(std::initializer_list<Header> fields)
        : fields_(fields) {}

    void add(std::string name, std::string value) {
        fields_.push_back({std::move(name), std::move(value)});
    }
    void set(std::string_view name, std::string value);
    // Removes every field named `name`; returns how many.
    std::size_t erase(std::string_view name);
    // The first field named `name`.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
    [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }

    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
    [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
    [[nodiscard]] auto end() const noexcept { return fields_.end(); }
    void clear() noexcept { fields_.clear(); }

private:
    std::vector<Header> fields_;
};

// ASCII case-insensitive equality, for header names and tokens.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

struct Request {
    std::string method = "GET";
    std::string target = "/";  // "/path?query", or an absolute URL (client side only)
    Headers headers{};
    std::string body{};
    // --- filled by the server ---
    std::string peer{};      // "127.0.0.1:53122"
    std::stop_token stop{};  // requested when the server closes: long handlers end early

    // The target's path, without the query: "/v1/events".
    [[nodiscard]] std::string_view path() const noexcept;
    // The target's query, without the '?': "x=1&y=2" (empty if none).
    [[nodiscard]] std::string_view query() const noexcept;
};

struct Response {
    int status = 200;
    Headers headers{};
    std::string body{};

    [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }

    // A response with a body and its Content-Type.
    [[nodiscard]] static Response text(int status,
                                       std::string body,
                                       std::string content_type = "text/plain; charset=utf-8");
    [[nodiscard]] static Response json(int status, std::string body) {
        return text(status, std::move(body), "application/json");
    }
};

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

// `url` without userinfo, query and fragment, safe to put in a message:
// "https://user:pw@api.example.com:8443/v1/x?token=abc" -> "https://api.example.com:8443/v1/x".
[[nodiscard]] std::string safe_url(std::string_view url);

}  // namespace scopeflow::http
