// A cheap monotonic timestamp for bookkeeping (ledger ages): CLOCK_MONOTONIC_COARSE costs a few
// nanoseconds through the vDSO, at the price of a resolution of a few milliseconds.
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

}  // namespace scopeflow::detail
