// redis::Reply: one reply from the server as an owning value (hiredis's redisReply is converted
// and freed at once, so no C object escapes the connection).
//
//   redis::Reply r = conn.command({"GET", "user:42"});
//   if (r.is_nil()) { ... }                         // no such key
//   std::string_view v = r.str();                   // binary safe: may hold NULs
//   std::int64_t n = conn.command({"INCR", "hits"}).integer();
//   for (const redis::Reply& e : conn.command({"LRANGE", "q", "0", "-1"}).elements()) { ... }
//
// Accessors never fail: str() is empty unless the reply is a string, status or error; integer()
// is 0 unless it is an integer; elements() is empty unless it is an array.
//
// Thread safety: a value; const access from several threads is fine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopeflow::redis {

enum class ReplyKind : unsigned char { nil, string, integer, array, status, error };

[[nodiscard]] std::string_view to_string(ReplyKind kind) noexcept;

class Reply {
public:
    Reply() = default;  // nil

    [[nodiscard]] static Reply nil() { return {}; }
    [[nodiscard]] static Reply string(std::string_view s) { return Reply(ReplyKind::string, s); }
    [[nodiscard]] static Reply status(std::string_view s) { return Reply(ReplyKind::status, s); }
    [[nodiscard]] static Reply error(std::string_view s) { return Reply(ReplyKind::error, s); }
    [[nodiscard]] static Reply integer(std::int64_t i) {
        Reply r;
        r.set_integer(i);
        return r;
    }
    [[nodiscard]] static Reply array(std::vector<Reply> elements) {
        Reply r;
        r.kind_ = ReplyKind::array;
        r.elements_ = std::move(elements);
        return r;
    }

    [[nodiscard]] ReplyKind kind() const noexcept { return kind_; }
    [[nodiscard]] bool is_nil() const noexcept { return kind_ == ReplyKind::nil; }
    [[nodiscard]] bool is_error() const noexcept { return kind_ == ReplyKind::error; }
    [[nodiscard]] bool is_string() const noexcept { return kind_ == ReplyKind::string; }
    [[nodiscard]] bool is_integer() const noexcept { return kind_ == ReplyKind::integer; }

    // The bytes of a string, status or error reply.
    [[nodiscard]] std::string_view str() const noexcept {
        return has_text() ? std::string_view(text_) : std::string_view();
    }
    [[nodiscard]] std::int64_t integer() const noexcept {
        return kind_ == ReplyKind::integer ? integer_ : 0;
    }
    [[nodiscard]] const std::vector<Reply>& elements() const noexcept { return elements_; }

    // In-place setters: they reuse this reply's buffers (a connection fills a reused vector of
    // replies without allocating in steady state).
    void set_nil() noexcept { kind_ = ReplyKind::nil; }
    void set_text(ReplyKind kind, std::string_view s) {
        text_.assign(s.data(), s.size());
        kind_ = kind;
    }
    void set_integer(std::int64_t i) noexcept {
        integer_ = i;
        kind_ = ReplyKind::integer;
    }
    std::vector<Reply>& set_array(std::size_t n) {
        elements_.resize(n);
        kind_ = ReplyKind::array;
        return elements_;
    }

    friend bool operator==(const Reply& a, const Reply& b) noexcept;

private:
    Reply(ReplyKind kind, std::string_view s)
        : text_(s),
          kind_(kind) {}
    [[nodiscard]] bool has_text() const noexcept {
        return kind_ == ReplyKind::string || kind_ == ReplyKind::status ||
               kind_ == ReplyKind::error;
    }

    std::string text_;             // string, status, error
    std::vector<Reply> elements_;  // array
    std::int64_t integer_ = 0;     // integer
    ReplyKind kind_ = ReplyKind::nil;
};

}  // namespace scopeflow::redis
