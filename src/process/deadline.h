// Deadline: a poll(2) timeout that shrinks as time passes, for loops that retry after EINTR or
// partial progress. Private to src/process/.
#pragma once

#include <algorithm>
#include <chrono>
#include <climits>

namespace scopeflow::detail {

class Deadline {
public:
    using Clock = std::chrono::steady_clock;

    // Negative timeouts count as zero; a century or more (milliseconds::max()) never expires,
    // and cannot overflow the clock.
    explicit Deadline(std::chrono::milliseconds timeout)
        : infinite_(timeout >= std::chrono::hours{24 * 365 * 100}),
          until_(infinite_ ? Clock::time_point::max()
                           : Clock::now() + std::max(timeout, std::chrono::milliseconds{0})) {}

    [[nodiscard]] bool expired() const { return !infinite_ && Clock::now() >= until_; }

    // Milliseconds left, rounded up (so a loop never spins on a sub-millisecond remainder) and
    // capped at `cap`; -1 (poll: forever) when infinite and uncapped.
    [[nodiscard]] int poll_timeout(std::chrono::milliseconds cap = std::chrono::milliseconds{
                                       INT_MAX}) const {
        if (infinite_) {
            return cap.count() >= INT_MAX ? -1 : static_cast<int>(cap.count());
        }
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(until_ - Clock::now());
        if (left.count() <= 0) {
            return 0;
        }
        return static_cast<int>(std::min(left, cap).count());
    }

private:
    bool infinite_;
    Clock::time_point until_;
};

}  // namespace scopeflow::detail
