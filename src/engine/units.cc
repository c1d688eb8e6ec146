#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include <scopeflow/engine/units.h>

namespace scopeflow {
namespace {

// Splits "250ms" into 250 and "ms"; nullopt if there is no leading, finite, non-negative number.
std::optional<std::pair<double, std::string_view>> number_and_unit(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    // from_chars also reads "inf" and "nan", which are not amounts.
    if (text.empty() || !((text.front() >= '0' && text.front() <= '9') || text.front() == '.')) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data() || !std::isfinite(value) || value < 0) {
        return std::nullopt;
    }
    std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    while (!unit.empty() && unit.front() == ' ') {
        unit.remove_prefix(1);
    }
    return std::make_pair(value, unit);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto parsed = number_and_unit(text);
    if (!parsed) {
        return std::nullopt;
    }
    const auto [value, unit] = *parsed;
    double ms = 0;
    if (unit.empty() || unit == "ms") {
        ms = value;
    } else if (unit == "s") {
        ms = value * 1000;
    } else if (unit == "m" || unit == "min") {
        ms = value * 60'000;
    } else if (unit == "h") {
        ms = value * 3'600'000;
    } else if (unit == "us") {
        ms = value / 1000;
    } else {
        return std::nullopt;
    }
    if (ms > 1e15) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
    const auto parsed = number_and_unit(text);
    if (!parsed) {
        return std::nullopt;
    }
    const auto [value, unit] = *parsed;
    double factor = 0;
    if (unit.empty() || unit == "B") {
        factor = 1;
    } else if (unit == "KiB") {
        factor = 1024.0;
    } else if (unit == "MiB") {
        factor = 1024.0 * 1024;
    } else if (unit == "GiB") {
        factor = 1024.0 * 1024 * 1024;
    } else if (unit == "kB" || unit == "KB") {
        factor = 1e3;
    } else if (unit == "MB") {
        factor = 1e6;
    } else if (unit == "GB") {
        factor = 1e9;
    } else {
        return std::nullopt;
    }
    const double bytes = value * factor;
    if (bytes > 1e18 || bytes != std::floor(bytes)) {
        return std::nullopt;
    }
    return static_cast<std::uint64_t>(bytes);
}

}  // namespace scopeflow
