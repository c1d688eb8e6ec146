// A cheap monotonic timestamp for bookkeeping (ledger ages, pool lease times):
// CLOCK_MONOTONIC_COARSE costs a few nanoseconds through the vDSO, at the price of a resolution of
// a few milliseconds.
#pragma once

#include <chrono>
#include <cstdint>

#include <time.h>

namespace scopeflow::detail {

inline std::int64_t coarse_now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The same reading as a steady_clock time point (libstdc++'s steady_clock is CLOCK_MONOTONIC,
// whose coarse variant shares its origin): for deadlines and ages that tolerate milliseconds.
inline std::chrono::steady_clock::time_point coarse_steady_now() noexcept {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(coarse_now_ns()));
}

}  // namespace scopeflow::detail
