// Short human-readable durations for reports: "850ns", "12.5us", "250ms", "3.20s".
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace scopeflow::detail {

inline std::string format_duration(std::chrono::nanoseconds d) {
    const auto ns = static_cast<double>(d.count());
    char buf[32];
    if (ns < 1e3) {
        std::snprintf(buf, sizeof buf, "%.0fns", ns);
    } else if (ns < 1e6) {
        std::snprintf(buf, sizeof buf, "%.1fus", ns / 1e3);
    } else if (ns < 1e9) {
        std::snprintf(buf, sizeof buf, "%.0fms", ns / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
    }
    return buf;
}

}  // namespace scopeflow::detail
