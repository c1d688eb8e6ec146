#include "budget/fifo_quota.h"

#include <algorithm>

namespace scopeflow::detail {

FifoQuota::Outcome FifoQuota::acquire(std::uint64_t amount,
                                      const std::stop_token& stop,
                                      Clock::time_point deadline,
                                      bool* waited) {
    std::unique_lock lock(mu_);
    if (waiters_.empty() && used_ + amount <= capacity_) {
        take_locked(amount);
        return Outcome::acquired;
    }
    if (stop.stop_requested()) {
        ++cancelled_;
        return Outcome::cancelled;
    }
    if (waited != nullptr) {
        *waited = true;
    }
    ++waits_;
    Waiter self;
    self.amount = amount;
    if (waiters_.wait(lock, self, stop, deadline, [] { return false; })) {
        return Outcome::acquired;  // served, even if the deadline or a stop came at the same time
    }
    grant_locked();  // it may have been the head that blocked smaller requests behind it
    if (stop.stop_requested()) {
        ++cancelled_;
        return Outcome::cancelled;
    }
    ++timeouts_;
    return Outcome::timed_out;
}

bool FifoQuota::try_acquire(std::uint64_t amount) noexcept {
    std::lock_guard lock(mu_);
    if (waiters_.empty() && used_ + amount <= capacity_) {
        take_locked(amount);
        return true;
    }
    return false;
}

void FifoQuota::release(std::uint64_t amount) noexcept {
    std::lock_guard lock(mu_);
    used_ -= std::min(amount, used_);
    grant_locked();
}

FifoQuota::Counters FifoQuota::counters() const {
    std::lock_guard lock(mu_);
    return {.capacity = capacity_,
            .used = used_,
            .peak = peak_,
            .waiting = waiters_.size(),
            .acquired = acquired_,
            .waits = waits_,
            .timeouts = timeouts_,
            .cancelled = cancelled_};
}

FifoQuota::Clock::time_point FifoQuota::deadline_after(std::chrono::milliseconds timeout) {
    constexpr auto kForever = std::chrono::hours(24 * 365 * 10);
    const auto now = Clock::now();
    if (timeout <= std::chrono::milliseconds::zero()) {
        return now;
    }
    return now + std::min<Clock::duration>(timeout, kForever);
}

void FifoQuota::take_locked(std::uint64_t amount) noexcept {
    used_ += amount;
    peak_ = std::max(peak_, used_);
    ++acquired_;
}

void FifoQuota::grant_locked() noexcept {
    while (!waiters_.empty() && used_ + waiters_.front<Waiter>().amount <= capacity_) {
        waiters_.serve_front<Waiter>([this](Waiter& w) { take_locked(w.amount); });
    }
}

}  // namespace scopeflow::detail
