#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include <simdjson.h>

#include <scopeflow/event_json.h>

namespace scopeflow {

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING, "kJsonPadding must cover simdjson's padding");

namespace {

// --- writing --------------------------------------------------------------------------------

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

void append_quoted(std::string_view s, std::string& out) {
    out.push_back('"');
    const char* run = s.data();
    const char* const end = s.data() + s.size();
    for (const char* p = run; p != end; ++p) {
        const char esc = kEscapes[static_cast<unsigned char>(*p)];
        if (esc == 0) [[likely]] {
            continue;
        }
        out.append(run, static_cast<std::size_t>(p - run));
        run = p + 1;
        if (esc == 'u') {
            constexpr std::string_view kHex = "0123456789abcdef";
            const auto c = static_cast<unsigned char>(*p);
            const std::array<char, 6> u{'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            out.append(u.data(), u.size());
        } else {
            const std::array<char, 2> e{'\\', esc};
            out.append(e.data(), e.size());
        }
    }
    out.append(run, static_cast<std::size_t>(end - run));
    out.push_back('"');
}

template <typename Int>
void append_integer(Int i, std::string& out) {
    std::array<char, 24> buf;
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), i);
    out.append(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
}

void append_double(double d, std::string& out) {
    if (!std::isfinite(d)) {
        out.append("null");
        return;
    }
    std::array<char, 40> buf;
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size() - 2, d);
    char* end = r.ptr;
    // Shortest round-trip text may look like an integer ("3", "-0", "100"): keep it a number.
    bool integral = true;
    for (const char* p = buf.data(); p != end; ++p) {
        if (*p == '.' || *p == 'e') {
            integral = false;
            break;
        }
    }
    if (integral) {
        *end++ = '.';
        *end++ = '0';
    }
    out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

// Compact JSON of a nested simdjson element (the text of a raw value).
void append_element(simdjson::dom::element e, std::string& out) {
    using simdjson::dom::element_type;
    switch (e.type()) {
        case element_type::OBJECT: {
            out.push_back('{');
            bool first = true;
            simdjson::dom::object object;
            if (e.get(object) != simdjson::SUCCESS) {  // cannot fail: type() said object
                break;
            }
            for (const auto field : object) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_quoted(field.key, out);
                out.push_back(':');
                append_element(field.value, out);
            }
            out.push_back('}');
            break;
        }
        case element_type::ARRAY: {
            out.push_back('[');
            bool first = true;
            simdjson::dom::array array;
            if (e.get(array) != simdjson::SUCCESS) {  // cannot fail: type() said array
                break;
            }
            for (const auto item : array) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                append_element(item, out);
            }
            out.push_back(']');
            break;
        }
        case element_type::INT64:
            append_integer(e.get_int64().value_unsafe(), out);
            break;
        case element_type::UINT64:  // kept exact inside raw text
            append_integer(e.get_uint64().value_unsafe(), out);
            break;
        case element_type::DOUBLE:
            append_double(e.get_double().value_unsafe(), out);
            break;
        case element_type::STRING:
            append_quoted(e.get_string().value_unsafe(), out);
            break;
        case element_type::BOOL:
            out.append(e.get_bool().value_unsafe() ? "true" : "false");
            break;
        case element_type::NULL_VALUE:
            out.append("null");
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
            case element_type::ARRAY:
                impl_->raw_scratch.clear();
                append_element(e, impl_->raw_scratch);
                v.set_raw(impl_->raw_scratch);
                break;
        }
    }
    return {};
}

void append_json(const Value& value, std::string& out) {
    switch (value.kind()) {
        case ValueKind::null:
            out.append("null");
            break;
        case ValueKind::boolean:
            out.append(value.as_bool() ? "true" : "false");
            break;
        case ValueKind::integer:
            append_integer(value.as_int(), out);
            break;
        case ValueKind::number:
            append_double(value.as_double(), out);
            break;
        case ValueKind::string:
            append_quoted(value.as_string(), out);
            break;
        case ValueKind::raw:
            out.append(value.raw_json());
            break;
    }
}

void append_json(const Event& event, std::string& out) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, value] : event) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        append_quoted(key, out);
        out.push_back(':');
        append_json(value, out);
    }
    out.push_back('}');
}

std::string to_json(const Event& event) {
    std::string out;
    out.reserve(16 * event.size() + 2);
    append_json(event, out);
    return out;
}

}  // namespace scopeflow
