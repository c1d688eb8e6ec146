#include "http/ingest_body.h"

#include <cstddef>
#include <string>

namespace scopeflow::http::detail {
namespace {

constexpr std::string_view kBlank = " \t\r\n";

std::size_t skip_blank(std::string_view s, std::size_t i) {
    const auto k = s.find_first_not_of(kBlank, i);
    return k == std::string_view::npos ? s.size() : k;
}

// Where the object starting at s[i] == '{' ends (just past its '}'), or npos if it does not.
// Only braces and strings are followed; the event parser checks the rest.
std::size_t object_end(std::string_view s, std::size_t i) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t k = i; k < s.size(); ++k) {
        const char c = s[k];
        if (in_string) {
            if (c == '\\') {
                ++k;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return k + 1;
        }
    }
    return std::string_view::npos;
}

// Why the JSON value at the start of `rest` (not '{') is not an event: "is a number, not a
// JSON object".
std::string not_an_object(std::string_view rest) {
    const char c = rest.front();
    std::string_view kind;
    if (c == '"') {
        kind = "a string";
    } else if (c == '[') {
        kind = "an array";
    } else if (rest.starts_with("true") || rest.starts_with("false")) {
        kind = "a boolean";
    } else if (rest.starts_with("null")) {
        kind = "null";
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        kind = "a number";
    } else {
        return " is not JSON";
    }
    return " is " + std::string(kind) + ", not a JSON object";
}

std::string parse_one(std::string_view json,
                      const std::string& where,
                      EventParser& parser,
                      std::vector<Event>& out) {
    Event e;
    if (ParseStatus st = parser.parse(json, e); !st) {
        return where + ": " + st.message;
    }
    out.push_back(std::move(e));
    return {};
}

std::string parse_array(std::string_view body,
                        std::size_t i,
                        EventParser& parser,
                        std::vector<Event>& out) {
    std::size_t k = skip_blank(body, i + 1);
    if (k < body.size() && body[k] == ']') {
        return "the array is empty: no events in the body";
    }
    for (std::size_t element = 1;; ++element) {
        const std::string where = "element " + std::to_string(element) + " of the array";
        k = skip_blank(body, k);
        if (k >= body.size()) {
            return "the array is not closed (a ']' is missing)";
        }
        if (body[k] != '{') {
            return where + not_an_object(body.substr(k));
        }
        const std::size_t end = object_end(body, k);
        if (end == std::string_view::npos) {
            return where + " is not closed (a '}' is missing)";
        }
        if (std::string why = parse_one(body.substr(k, end - k), where, parser, out);
            !why.empty()) {
            return why;
        }
        k = skip_blank(body, end);
        if (k < body.size() && body[k] == ',') {
            ++k;
            continue;
        }
        if (k < body.size() && body[k] == ']') {
            if (skip_blank(body, k + 1) != body.size()) {
                return "unexpected text after the array";
            }
            return {};
        }
        return k >= body.size() ? "the array is not closed (a ']' is missing)"
                                : "expected ',' or ']' after " + where;
    }
}

std::string parse_lines(std::string_view body, EventParser& parser, std::vector<Event>& out) {
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < body.size()) {
        const auto end = body.find('\n', pos);
        const std::string_view line =
            body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        ++line_no;
        pos = end == std::string_view::npos ? body.size() : end + 1;
        const std::size_t first = line.find_first_not_of(kBlank);
        if (first == std::string_view::npos) {
            continue;
        }
        const std::string where = "line " + std::to_string(line_no);
        if (line[first] != '{') {
            return where + not_an_object(line.substr(first));
        }
        if (std::string why = parse_one(line, where, parser, out); !why.empty()) {
            return why;
        }
    }
    return {};
}

}  // namespace

std::string parse_ingest_body(std::string_view body, EventParser& parser, std::vector<Event>& out) {
    const std::size_t start = skip_blank(body, 0);
    if (start == body.size()) {
        return "the body is empty: send a JSON object, JSON lines or an array of objects";
    }
    if (body[start] == '[') {
        return parse_array(body, start, parser, out);
    }
    // One object spread over several lines (pretty-printed) is one event, not broken lines.
    if (body[start] == '{') {
        const std::size_t end = object_end(body, start);
        if (end != std::string_view::npos && skip_blank(body, end) == body.size() &&
            body.substr(start, end - start).find('\n') != std::string_view::npos) {
            return parse_one(body.substr(start, end - start), "the body", parser, out);
        }
    }
    return parse_lines(body, parser, out);
}

}  // namespace scopeflow::http::detail
