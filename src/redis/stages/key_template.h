// KeyTemplate: a Redis key (or hash field) built from an event: "user:${user}:${day}".
//
//   auto t = KeyTemplate::parse("hits:${user}", "graph.stages.count.key");
//   std::string key;
//   std::string_view missing;
//   if (!t.render(event, key, missing)) { /* the event has no usable field `missing` */ }
//
// "${name}" is replaced by the event's field `name`: a string as is, an integer in decimal, any
// other kind as its JSON text. A missing or null field fails the render. Everything else is
// literal; "${" without "}" or an empty name is a ConfigError at parse time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/event/event.h>

namespace scopeflow::detail {

// Appends the text form of `v` (see above); false for null.
bool append_text(const Value& v, std::string& out);

class KeyTemplate {
public:
    [[nodiscard]] static KeyTemplate parse(std::string_view text, const std::string& where);

    // Renders into `out` (replaced). On a missing or null field returns false and names it.
    bool render(const Event& event, std::string& out, std::string_view& missing) const;
    [[nodiscard]] bool constant() const noexcept;  // no ${...}

private:
    struct Part {
        bool field = false;  // text is a field name, else literal
        std::string text;
    };
    std::vector<Part> parts_;
};

}  // namespace scopeflow::detail
