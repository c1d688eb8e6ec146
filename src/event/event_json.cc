#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include <simdjson.h>

#include <scopeflow/event/event_json.h>

namespace scopeflow {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING,
              "kJsonPadding must cover simdjson's padding");

namespace {

// --- writing --------------------------------------------------------------------------------

// Appends to a std::string through a raw pointer: the string is grown once by an estimate of the
// output (the resize also sets its length), written in place, then cut to what was written. This
// avoids a capacity check and a libc call per tiny piece, the main cost of serializing small
// events with std::string::append.
class Writer {
public:
    Writer(std::string& out, std::size_t estimate)
        : out_(out),
          base_(out.size()) {
        out_.resize(base_ + estimate);
        p_ = out_.data() + base_;
        end_ = out_.data() + out_.size();
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    // Without finish() (an exception), the string gets its original content back.
    ~Writer() {
        if (p_ != nullptr) {
            out_.resize(base_);
        }
    }
    void finish() {
        out_.resize(static_cast<std::size_t>(p_ - out_.data()));
        p_ = nullptr;
    }

    // Makes room for n more bytes; the put()s that follow may use it unchecked.
    void reserve(std::size_t n) {
        if (static_cast<std::size_t>(end_ - p_) < n) [[unlikely]] {
            grow(n);
        }
    }
    void put(char c) noexcept { *p_++ = c; }
    void put(const char* s, std::size_t n) noexcept {
        copy_small(p_, s, n);
        p_ += n;
    }
    void put(std::string_view s) noexcept { put(s.data(), s.size()); }
    char*& cursor() noexcept { return p_; }
    [[nodiscard]] std::size_t room() const noexcept { return static_cast<std::size_t>(end_ - p_); }

private:
    void grow(std::size_t n) {
        const auto used = static_cast<std::size_t>(p_ - out_.data());
        out_.resize(std::max(used + n, 2 * out_.size()));
        p_ = out_.data() + used;
        end_ = out_.data() + out_.size();
    }
    // Fixed-size memcpys compile to plain loads and stores; two overlapping ones cover any length
    // in their range without reading or writing outside [s, s + n).
    static void copy_small(char* d, const char* s, std::size_t n) noexcept {
        if (n >= 16) {
            if (n > 32) {
                std::memcpy(d, s, n);
                return;
            }
            std::memcpy(d, s, 16);
            std::memcpy(d + n - 16, s + n - 16, 16);
        } else if (n >= 8) {
            std::memcpy(d, s, 8);
            std::memcpy(d + n - 8, s + n - 8, 8);
        } else if (n >= 4) {
            std::memcpy(d, s, 4);
            std::memcpy(d + n - 4, s + n - 4, 4);
        } else if (n > 0) {
            d[0] = s[0];
            d[n / 2] = s[n / 2];
            d[n - 1] = s[n - 1];
        }
    }

    std::string& out_;
    std::size_t base_;
    char* p_ = nullptr;
    char* end_ = nullptr;
};

// For each byte: 0 when it is copied as is, the letter of its short escape, or 'u' for \u00XX.
constexpr std::array<char, 256> kEscapes = [] {
    std::array<char, 256> t{};
    for (std::size_t c = 0; c < 0x20; ++c) {
        t[c] = 'u';
    }
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
    return t;
}();

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;

// True when one of the 8 bytes of w is < 0x20, '"' or '\\' (exact "has a zero byte" tests).
constexpr bool needs_escape(std::uint64_t w) noexcept {
    const std::uint64_t quote = w ^ (kOnes * '"');
    const std::uint64_t backslash = w ^ (kOnes * '\\');
    const std::uint64_t hits =
        ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
    return (hits & (kOnes * 0x80)) != 0;
}

std::size_t scan_bytes(std::string_view s, std::size_t from) noexcept {
    while (from < s.size() && kEscapes[static_cast<unsigned char>(s[from])] == 0) {
        ++from;
    }
    return from;
}

// The index of the first byte of s that needs an escape, or s.size(). Checks eight bytes at a
// time, short strings and tails included (overlapping loads that stay inside s); only a word
// with a hit is looked at byte by byte.
std::size_t first_escape(std::string_view s) noexcept {
    const char* const p = s.data();
    const std::size_t n = s.size();
    if (n >= 8) {
        std::size_t i = 0;
        std::uint64_t w;
        for (; i + 8 <= n; i += 8) {
            std::memcpy(&w, p + i, 8);
            if (needs_escape(w)) {
                return scan_bytes(s, i);
            }
        }
        if (i == n) {
            return n;
        }
        std::memcpy(&w, p + n - 8, 8);
        return needs_escape(w) ? scan_bytes(s, i) : n;
    }
    std::uint64_t w = kOnes * 'a';
    if (n >= 4) {
        std::uint32_t lo;
        std::uint32_t hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        w = lo | (std::uint64_t{hi} << 32);
    } else if (n > 0) {
        w = (w << 24) | std::uint64_t{static_cast<unsigned char>(p[0])} |
            (std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
            (std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
    }
    return needs_escape(w) ? scan_bytes(s, 0) : n;
}

// True when no byte of s has its high bit set (plain ASCII: valid UTF-8 by construction).
bool is_ascii(std::string_view s) noexcept {
    const char* const p = s.data();
    const std::size_t n = s.size();
    std::uint64_t any = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        any |= w;
    }
    for (; i < n; ++i) {
        any |= static_cast<unsigned char>(p[i]);
    }
    return (any & (kOnes * 0x80)) == 0;
}

// The length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), or 0 with
// `bad` set to the length of its maximal invalid subpart (at least 1).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = b(i);
    std::size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2;
        lo = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong encodings
        hi = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3;
        lo = lead == 0xF0 ? 0x90 : 0x80;  // no overlong encodings
        hi = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    } else {
        bad = 1;  // a continuation byte, C0/C1 (overlong) or F5..FF
        return 0;
    }
    for (std::size_t k = 1; k <= need; ++k) {
        const bool in_range = i + k < s.size() && b(i + k) >= (k == 1 ? lo : 0x80) &&
                              b(i + k) <= (k == 1 ? hi : 0xBF);
        if (!in_range) {
            bad = k;
            return 0;
        }
    }
    return need + 1;
}

void write_escaped_byte(unsigned char c, Writer& w) {
    constexpr std::string_view kHex = "0123456789abcdef";
    const char esc = kEscapes[c];
    if (esc == 0) {
        w.put(static_cast<char>(c));
    } else if (esc == 'u') {
        w.put("\\u00", 4);
        w.put(kHex[c >> 4]);
        w.put(kHex[c & 0xF]);
    } else {
        w.put('\\');
        w.put(esc);
    }
}

// The slow path, for strings that are not valid UTF-8: each maximal invalid subpart becomes
// U+FFFD, so the output is valid UTF-8 (and so valid JSON) whatever the input held.
void write_quoted_repairing(std::string_view s, Writer& w) {
    constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
    w.reserve(s.size() + 2);
    w.put('"');
    for (std::size_t i = 0; i < s.size();) {
        w.reserve(7);  // the longest escape or sequence, and the closing quote
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            write_escaped_byte(c, w);
            ++i;
            continue;
        }
        std::size_t bad = 0;
        const std::size_t n = utf8_sequence(s, i, bad);
        if (n == 0) {
            w.put(kReplacement);
            i += bad;
        } else {
            w.put(s.data() + i, n);
            i += n;
        }
    }
    w.put('"');
}

void write_quoted(std::string_view s, Writer& w) {
    if (!is_ascii(s) && !simdjson::validate_utf8(s.data(), s.size())) [[unlikely]] {
        write_quoted_repairing(s, w);
        return;
    }
    w.reserve(s.size() + 2);
    w.put('"');
    const std::size_t clean = first_escape(s);
    w.put(s.data(), clean);
    if (clean != s.size()) [[unlikely]] {
        for (const char ch : s.substr(clean)) {
            w.reserve(7);  // the longest escape, and the closing quote
            write_escaped_byte(static_cast<unsigned char>(ch), w);
        }
    }
    w.put('"');
}

template <typename Int>
void write_integer(Int i, Writer& w) {
    w.reserve(20);  // INT64_MIN and UINT64_MAX are 20 characters
    char*& p = w.cursor();
    p = std::to_chars(p, p + w.room(), i).ptr;
}

// Most doubles in events are short decimals (prices, rates, coordinates): m / 10^k with k <= 6.
// When d is one, writes it as such and returns true; a few multiplies and divides instead of the
// general shortest-form search. The check is exact: m < 2^53 and 10^k are exact doubles, so
// m / 10^k rounds exactly as a reader rounds the decimal text.
bool write_short_decimal(double d, Writer& w) {
    constexpr std::array<double, 7> kPow10{1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    const double a = std::fabs(d);
    if (!(a >= 1e-6 && a < 1e15)) {  // also NaN, and zeros (keeps the sign of -0.0 to to_chars)
        return false;
    }
    for (std::size_t k = 0; k < kPow10.size(); ++k) {
        const double scaled = a * kPow10[k];
        if (scaled >= 9007199254740992.0) {  // 2^53
            return false;
        }
        const auto m = static_cast<std::uint64_t>(std::llround(scaled));
        if (static_cast<double>(m) / kPow10[k] != a) {
            continue;
        }
        char*& p = w.cursor();
        if (d < 0) {
            *p++ = '-';
        }
        char* const start = p;
        char* end = std::to_chars(start, start + 20, m).ptr;
        if (k == 0) {
            *end++ = '.';
            *end++ = '0';
        } else {
            auto n = static_cast<std::size_t>(end - start);
            if (n <= k) {  // 0.0x: pad with zeros to one integer digit and k fraction digits
                const std::size_t pad = k + 1 - n;
                std::memmove(start + pad, start, n);
                std::memset(start, '0', pad);
                end += pad;
            }
            char* const fraction = end - k;  // shift the last k digits right for the point
            std::memmove(fraction + 1, fraction, k);
            *fraction = '.';
            ++end;
        }
        p = end;
        return true;
    }
    return false;
}

void write_double(double d, Writer& w) {
    w.reserve(26);  // the shortest form is at most 24 characters, then ".0"
    if (!std::isfinite(d)) {
        w.put("null", 4);
        return;
    }
    if (write_short_decimal(d, w)) {
        return;
    }
    char*& p = w.cursor();
    char* const start = p;
    p = std::to_chars(p, p + w.room() - 2, d).ptr;
    // The shortest form may look like an integer ("-0", "1e+22" does not): keep it a number.
    if (std::find_if(start, p, [](char c) { return c == '.' || c == 'e'; }) == p) {
        *p++ = '.';
        *p++ = '0';
    }
}

void write_literal(std::string_view text, Writer& w) {
    w.reserve(text.size());
    w.put(text);
}

void write_value(const Value& value, Writer& w) {
    switch (value.kind()) {
        case ValueKind::null:
            write_literal("null", w);
            break;
        case ValueKind::boolean:
            write_literal(value.as_bool() ? "true" : "false", w);
            break;
        case ValueKind::integer:
            write_integer(value.as_int(), w);
            break;
        case ValueKind::number:
            write_double(value.as_double(), w);
            break;
        case ValueKind::string:
            write_quoted(value.as_string(), w);
            break;
        case ValueKind::raw:
            write_literal(value.raw_json(), w);
            break;
    }
}

// The output size when nothing needs escaping (numbers counted at their longest).
std::size_t estimate_size(const Value& value) noexcept {
    switch (value.kind()) {
        case ValueKind::null:
        case ValueKind::boolean:
            return 5;
        case ValueKind::integer:
            return 20;
        case ValueKind::number:
            return 26;
        case ValueKind::string:
            return value.as_string().size() + 2;
        case ValueKind::raw:
            return value.raw_json().size();
    }
    return 0;
}

// Compact JSON of a nested simdjson element (the text of a raw value).
void write_element(simdjson::dom::element e, Writer& w) {
    using simdjson::dom::element_type;
    switch (e.type()) {
        case element_type::OBJECT: {
            simdjson::dom::object object;
            if (e.get(object) != simdjson::SUCCESS) {  // cannot fail: type() said object
                break;
            }
            w.reserve(1);
            w.put('{');
            bool first = true;
            for (const auto field : object) {
                w.reserve(1);
                if (!first) {
                    w.put(',');
                }
                first = false;
                write_quoted(field.key, w);
                w.reserve(1);
                w.put(':');
                write_element(field.value, w);
            }
            w.reserve(1);
            w.put('}');
            break;
        }
        case element_type::ARRAY: {
            simdjson::dom::array array;
            if (e.get(array) != simdjson::SUCCESS) {  // cannot fail: type() said array
                break;
            }
            w.reserve(1);
            w.put('[');
            bool first = true;
            for (const auto item : array) {
                if (!first) {
                    w.reserve(1);
                    w.put(',');
                }
                first = false;
                write_element(item, w);
            }
            w.reserve(1);
            w.put(']');
            break;
        }
        case element_type::INT64:
            write_integer(e.get_int64().value_unsafe(), w);
            break;
        case element_type::UINT64:  // kept exact inside raw text
            write_integer(e.get_uint64().value_unsafe(), w);
            break;
        case element_type::DOUBLE:
            write_double(e.get_double().value_unsafe(), w);
            break;
        case element_type::STRING:
            write_quoted(e.get_string().value_unsafe(), w);
            break;
        case element_type::BOOL:
            write_literal(e.get_bool().value_unsafe() ? "true" : "false", w);
            break;
        case element_type::NULL_VALUE:
            write_literal("null", w);
            break;
    }
}

// --- reading --------------------------------------------------------------------------------

std::string_view type_name(simdjson::dom::element_type t) noexcept {
    using simdjson::dom::element_type;
    switch (t) {
        case element_type::ARRAY:
            return "an array";
        case element_type::OBJECT:
            return "an object";
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return "a number";
        case element_type::STRING:
            return "a string";
        case element_type::BOOL:
            return "a boolean";
        case element_type::NULL_VALUE:
            return "null";
    }
    return "an unknown value";
}

ParseStatus failure(std::string message) {
    return ParseStatus{.ok = false, .message = std::move(message)};
}

}  // namespace

struct EventParser::Impl {
    explicit Impl(EventParserOptions o)
        : options(o),
          parser(std::max(o.max_event_bytes, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY)) {}

    EventParserOptions options;
    simdjson::dom::parser parser;
    std::string raw_scratch;  // the text of one nested value, before it is copied into its Value
};

EventParser::EventParser(EventParserOptions options)
    : impl_(std::make_unique<Impl>(options)) {}
EventParser::EventParser(EventParser&& other) noexcept = default;
EventParser& EventParser::operator=(EventParser&& other) noexcept = default;
EventParser::~EventParser() = default;

const EventParserOptions& EventParser::options() const noexcept {
    return impl_->options;
}

ParseStatus EventParser::parse(std::string_view json, Event& out) {
    return parse_impl(json, out, false);
}

ParseStatus EventParser::parse_padded(std::string_view json, Event& out) {
    return parse_impl(json, out, true);
}

ParseStatus EventParser::parse_impl(std::string_view json, Event& out, bool padded) {
    using simdjson::dom::element_type;
    out.clear();
    if (json.size() > impl_->options.max_event_bytes) {
        return failure("event of " + std::to_string(json.size()) +
                       " bytes exceeds max_event_bytes (" +
                       std::to_string(impl_->options.max_event_bytes) + ")");
    }
    simdjson::dom::element root;
    // realloc_if_needed = true makes simdjson copy the input into its own padded buffer.
    if (const auto error = impl_->parser.parse(json.data(), json.size(), !padded).get(root)) {
        if (error == simdjson::EMPTY) {
            return failure("empty input: expected a JSON object");
        }
        return failure(std::string("invalid JSON: ") + simdjson::error_message(error));
    }
    simdjson::dom::object object;
    if (root.get(object) != simdjson::SUCCESS) {
        return failure("expected a JSON object, got " + std::string(type_name(root.type())));
    }
    for (const auto field : object) {
        Value& v = out.get_or_add(field.key);
        const simdjson::dom::element e = field.value;
        switch (e.type()) {
            case element_type::STRING:
                v.set_string(e.get_string().value_unsafe());
                break;
            case element_type::INT64:
                v.set_int(e.get_int64().value_unsafe());
                break;
            case element_type::UINT64:  // above INT64_MAX: documented to become a double
                v.set_double(static_cast<double>(e.get_uint64().value_unsafe()));
                break;
            case element_type::DOUBLE:
                v.set_double(e.get_double().value_unsafe());
                break;
            case element_type::BOOL:
                v.set_bool(e.get_bool().value_unsafe());
                break;
            case element_type::NULL_VALUE:
                v.set_null();
                break;
            case element_type::OBJECT:
            case element_type::ARRAY: {
                impl_->raw_scratch.clear();
                {
                    Writer w(impl_->raw_scratch, 64);
                    write_element(e, w);
                    w.finish();
                }
                v.set_raw(impl_->raw_scratch);
                break;
            }
        }
    }
    return {};
}

void append_json(const Value& value, std::string& out) {
    Writer w(out, estimate_size(value));
    write_value(value, w);
    w.finish();
}

void append_json(const Event& event, std::string& out) {
    std::size_t estimate = 2;
    for (const auto& [key, value] : event) {
        estimate += key.size() + 4 + estimate_size(value);
    }
    Writer w(out, estimate);
    w.put('{');
    bool first = true;
    for (const auto& [key, value] : event) {
        w.reserve(1);
        if (!first) {
            w.put(',');
        }
        first = false;
        write_quoted(key, w);
        w.reserve(1);
        w.put(':');
        write_value(value, w);
    }
    w.reserve(1);
    w.put('}');
    w.finish();
}

void append_json_string(std::string_view s, std::string& out) {
    Writer w(out, s.size() + 2);
    write_quoted(s, w);
    w.finish();
}

std::string to_json(const Event& event) {
    std::string out;
    append_json(event, out);
    return out;
}

}  // namespace scopeflow
