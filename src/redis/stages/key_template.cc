#include "redis/stages/key_template.h"

#include <charconv>
#include <string>
#include <string_view>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event_json.h>

namespace scopeflow::detail {

bool append_text(const Value& v, std::string& out) {
    switch (v.kind()) {
        case ValueKind::null:
            return false;
        case ValueKind::string:
            out.append(v.as_string());
            return true;
        case ValueKind::integer: {
            char digits[24];
            const auto r = std::to_chars(digits, digits + sizeof(digits), v.as_int());
            out.append(digits, r.ptr);
            return true;
        }
        default:
            append_json(v, out);
            return true;
    }
}

KeyTemplate KeyTemplate::parse(std::string_view text, const std::string& where) {
    KeyTemplate t;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t open = text.find("${", i);
        if (open == std::string_view::npos) {
            t.parts_.push_back({false, std::string(text.substr(i))});
            break;
        }
        if (open > i) {
            t.parts_.push_back({false, std::string(text.substr(i, open - i))});
        }
        const std::size_t close = text.find('}', open + 2);
        if (close == std::string_view::npos) {
            throw ConfigError(where, "'${' without a closing '}' in \"" + std::string(text) + "\"");
        }
        if (close == open + 2) {
            throw ConfigError(where, "empty field name '${}' in \"" + std::string(text) + "\"");
        }
        t.parts_.push_back({true, std::string(text.substr(open + 2, close - open - 2))});
        i = close + 1;
    }
    return t;
}

bool KeyTemplate::render(const Event& event, std::string& out, std::string_view& missing) const {
    out.clear();
    for (const Part& p : parts_) {
        if (!p.field) {
            out.append(p.text);
            continue;
        }
        const Value* v = event.find(p.text);
        if (v == nullptr || !append_text(*v, out)) {
            missing = p.text;
            return false;
        }
    }
    return true;
}

bool KeyTemplate::constant() const noexcept {
    for (const Part& p : parts_) {
        if (p.field) {
            return false;
        }
    }
    return true;
}

}  // namespace scopeflow::detail
