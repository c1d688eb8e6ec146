// Durations and sizes as operators write them in a config: "250ms", "30s", "5m", "1h";
// "512", "64KiB", "16MiB", "1GiB" (also kB/MB/GB as powers of 1000).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace scopeflow::service {

// nullopt when the text is not a duration. A bare number is milliseconds.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// nullopt when the text is not a size. A bare number is bytes.
[[nodiscard]] std::optional<std::uint64_t> parse_bytes(std::string_view text);

}  // namespace scopeflow::service
