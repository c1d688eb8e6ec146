// LogLimiter: keeps a storm of the same message from flooding a log.
//
// Each occurrence is counted under a key (say a stage and a failure class). The first
// occurrence of a key is logged at once; after that at most one line per key per interval,
// carrying how many occurrences it stands for. What is still owed when the storm stops is
// handed out by due(), so no count is lost: the lines of a key add up to its occurrences.
//
//   scopeflow::LogLimiter limiter(std::chrono::seconds(10));
//   if (std::uint64_t n = limiter.hit("stage 'db'/error", reason)) {
//       log(LogLevel::warn, n == 1 ? reason : std::to_string(n) + " failures; last: " + reason);
//   }
//   for (const auto& line : limiter.due()) { ...line.count, line.last... }  // now and then
//
// Thread safety: every member may be called concurrently (one mutex; hit() is meant for
// failures, not for the per-event hot path).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace scopeflow {

class LogLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogLimiter(std::chrono::nanoseconds interval = std::chrono::seconds(10))
        : interval_(interval) {}

    // One occurrence of `key`, `detail` being its message. Returns how many occurrences to
    // report in a line now (this one included): 1 the first time, the count since the last
    // line once `interval` has passed since it; 0 when it is held back for a later line.
    std::uint64_t hit(std::string_view key,
                      std::string_view detail,
                      Clock::time_point now = Clock::now());

    // A line owed for occurrences held back.
    struct Owed {
        std::string key;
        std::uint64_t count = 0;  // occurrences held back since the key's last line
        std::string last;         // the detail of the latest one
    };
    // The keys with occurrences held back for at least `interval` since their last line (every
    // one of them with `all`, as at the end of a run); they count as reported now.
    std::vector<Owed> due(Clock::time_point now = Clock::now(), bool all = false);

    // True when some occurrence is held back (cheap: no lock).
    [[nodiscard]] bool owing() const noexcept { return owing_.load(std::memory_order_relaxed); }

private:
    struct State {
        Clock::time_point last_line;
        std::uint64_t held = 0;
        std::string last;
    };
    const std::chrono::nanoseconds interval_;
    std::mutex mu_;
    std::map<std::string, State, std::less<>> keys_;  // guarded by mu_
    std::atomic<bool> owing_{false};
};

}  // namespace scopeflow
