// Durations and sizes as operators write them in a config, one parser for each, used by every
// option of those kinds (service settings, resources, sources, stages, plugins):
//
//   durations: "250ms", "30s", "5m", "1h" (also "us", "min"); a bare number is milliseconds
//   sizes:     "512", "512B", "64KiB", "16MiB", "1GiB" (binary); "64KB"/"64kB", "16MB", "1GB"
//              (powers of 1000); a bare number is bytes
//
//   auto d = scopeflow::parse_duration("1.5s");   // 1500ms
//   auto n = scopeflow::parse_bytes("16MiB");     // 16777216
//
// Stage factories read such options with optional_duration() / optional_bytes()
// (stage_registry.h), which also take a YAML integer as milliseconds / bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace scopeflow {

// nullopt when the text is not a duration (negative, unknown unit, out of range).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// nullopt when the text is not a whole number of bytes (negative, unknown unit, a fraction of a
// byte, out of range).
[[nodiscard]] std::optional<std::uint64_t> parse_bytes(std::string_view text);

// What the parsers accept, for error messages.
inline constexpr std::string_view kDurationHint =
    "a duration such as 500ms, 30s, 5m or 1h (a bare number is milliseconds)";
inline constexpr std::string_view kSizeHint =
    "a size such as 65536, 64KiB, 16MiB or 1GB (a bare number is bytes)";

}  // namespace scopeflow
