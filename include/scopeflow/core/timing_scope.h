// TimingScope: measures a block and records its duration on every exit path.
//
// The seed's exercise 3 ("add timing measurement inside a context manager"). The duration goes
// to `ok` when the block completes normally, and to `failed` (if given) when it exits by an
// exception, so error latency does not pollute success latency.
//
//   scopeflow::Histogram ok, failed;
//   {
//       scopeflow::TimingScope t{ok, &failed};
//       process(event);        // recorded when the block exits, however it exits
//   }
//
// stop() records early and returns the duration; later exits record nothing.
#pragma once

#include <chrono>
#include <exception>

#include <scopeflow/core/histogram.h>

namespace scopeflow {

class [[nodiscard]] TimingScope {
public:
    using Clock = std::chrono::steady_clock;

    explicit TimingScope(Histogram& ok, Histogram* failed = nullptr) noexcept
        : ok_(&ok),
          failed_(failed),
          start_(Clock::now()) {}

    TimingScope(const TimingScope&) = delete;
    TimingScope& operator=(const TimingScope&) = delete;

    ~TimingScope() {
        if (!recorded_) {
            const bool failing = std::uncaught_exceptions() > uncaught_at_start_;
            record(failing && failed_ != nullptr ? *failed_ : *ok_);
        }
    }

    // Records now into the success histogram (once) and returns the elapsed time.
    std::chrono::nanoseconds stop() noexcept {
        if (recorded_) {
            return elapsed_;
        }
        return record(*ok_);
    }

    // Records now into the failure histogram (or the success one if none was given).
    std::chrono::nanoseconds fail() noexcept {
        if (recorded_) {
            return elapsed_;
        }
        return record(failed_ != nullptr ? *failed_ : *ok_);
    }

    [[nodiscard]] std::chrono::nanoseconds elapsed() const noexcept {
        return recorded_ ? elapsed_ : Clock::now() - start_;
    }

private:
    std::chrono::nanoseconds record(Histogram& h) noexcept {
        elapsed_ = Clock::now() - start_;
        recorded_ = true;
        h.record(elapsed_);
        return elapsed_;
    }

    Histogram* ok_;
    Histogram* failed_;
    Clock::time_point start_;
    std::chrono::nanoseconds elapsed_{};
    int uncaught_at_start_ = std::uncaught_exceptions();
    bool recorded_ = false;
};

}  // namespace scopeflow
