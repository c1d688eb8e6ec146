// Event <-> JSON: a reusable parser (simdjson underneath) and a compact serializer.
//
// An event is one JSON object. Mapping of values:
//   null, true/false, strings          -> null, boolean, string (escapes decoded, UTF-8 kept)
//   integers that fit int64            -> integer
//   other numbers (fractions, exponents, integers in (INT64_MAX, UINT64_MAX]) -> number (double)
//   nested objects and arrays          -> raw, holding the value's minified JSON text
// Numbers outside double range and integers beyond UINT64_MAX are rejected (simdjson's number
// error). A repeated key keeps its first position and its last value (as Event::set does).
// The input must be valid UTF-8; anything after the object other than whitespace is an error.
//
//   scopeflow::EventParser parser;   // one per thread, reused for every event
//   scopeflow::Event event;          // reused too: parse() clears it and keeps its capacity
//   std::string out;
//   for (std::string_view line : lines) {
//       if (scopeflow::ParseStatus st = parser.parse(line, event); !st) {
//           log("bad event: " + st.message);
//           continue;
//       }
//       out.clear();
//       scopeflow::append_json(event, out);   // {"id":17,"user":"u-42",...}
//   }
//
// Serialization is compact, fields in order. Strings escape '"', '\\' and control characters
// (\b \f \n \r \t, others as \u00XX); valid UTF-8 passes through. Bytes that are not valid
// UTF-8 (a stray continuation byte, 0xC0/0xC1 or 0xF5..0xFF, an overlong form, a surrogate
// encoded in UTF-8, a truncated sequence) are replaced by U+FFFD, one per maximal invalid
// subpart (Unicode's recommended practice, as WHATWG decoders do), so every string written is
// valid UTF-8 and every line valid JSON for strict parsers. Keys get the same treatment.
// Doubles are written so they read back to the same bits: as a short decimal when one with at most
// 6 fractional digits does ("9.5", "0.000125"), else in the shortest form (std::to_chars), with
// ".0" added where the text would look like an integer, so a number stays a number across a round
// trip. NaN and infinities become null (JSON has no spelling for them). Raw values are copied
// verbatim (the parser made them from validated input).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <scopeflow/event/event.h>

namespace scopeflow {

// Readable bytes parse_padded() needs after the end of its input (>= SIMDJSON_PADDING).
inline constexpr std::size_t kJsonPadding = 64;

// The result of a parse: cheap on success (no allocation), a message on failure such as
// "expected a JSON object, got an array" or "invalid JSON: The input is not valid UTF-8".
struct [[nodiscard]] ParseStatus {
    bool ok = true;
    std::string message;  // empty when ok

    explicit operator bool() const noexcept { return ok; }
};

struct EventParserOptions {
    // Longer input is rejected before parsing. This bounds the memory a parser keeps for reuse:
    // about 15 bytes per byte of the largest event it has parsed.
    std::size_t max_event_bytes = std::size_t{1} << 20;
};

// Parses JSON objects into Events, reusing its internal buffers across calls.
//
// Thread safety: none. Use one parser per thread; a parser may move between threads between
// calls. Failures are returned, never thrown (std::bad_alloc aside). A moved-from parser may only
// be assigned to or destroyed.
class EventParser {
public:
    explicit EventParser(EventParserOptions options = {});
    EventParser(EventParser&& other) noexcept;
    EventParser& operator=(EventParser&& other) noexcept;
    EventParser(const EventParser&) = delete;
    EventParser& operator=(const EventParser&) = delete;
    ~EventParser();

    // Parses `json` into `out`. `out` is cleared first (fields and metadata; its capacity is
    // kept), so after a failure it is empty. The input is copied into an internal padded buffer
    // (reused; a memcpy per call), so any string_view works.
    ParseStatus parse(std::string_view json, Event& out);

    // As parse(), without the copy. Precondition: at least kJsonPadding readable bytes follow
    // json.data() + json.size() (their content does not matter), e.g. the rest of a JSONL read
    // buffer allocated with kJsonPadding spare bytes at its end.
    ParseStatus parse_padded(std::string_view json, Event& out);

    [[nodiscard]] const EventParserOptions& options() const noexcept;

private:
    struct Impl;
    ParseStatus parse_impl(std::string_view json, Event& out, bool padded);

    std::unique_ptr<Impl> impl_;
};

// Appends the compact JSON object of `event` to `out` (nothing else is touched).
void append_json(const Event& event, std::string& out);
// Appends one value as JSON.
void append_json(const Value& value, std::string& out);
// Appends `s` as a quoted JSON string, escaped and with invalid UTF-8 replaced as above.
void append_json_string(std::string_view s, std::string& out);
// The compact JSON object of `event`.
[[nodiscard]] std::string to_json(const Event& event);

}  // namespace scopeflow
