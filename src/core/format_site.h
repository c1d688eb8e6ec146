// "file.cc:42" for an acquisition site; empty when the site is unknown.
#pragma once

#include <cstdint>
#include <string>

namespace scopeflow::detail {

inline std::string format_site(const char* file, std::uint_least32_t line) {
    if (file == nullptr || *file == '\0') {
        return {};
    }
    std::string s = file;
    s += ':';
    s += std::to_string(line);
    return s;
}

}  // namespace scopeflow::detail
