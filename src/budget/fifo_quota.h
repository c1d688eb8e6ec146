// FifoQuota: a weighted counting semaphore that serves waiters strictly in arrival order, with a
// deadline and a stop token. The engine under MemoryBudget, FileBudget, Semaphore and
// TrackedMutex.
//
// A request is granted at once only when nobody waits and it fits; otherwise it queues behind
// every earlier request, so a large request is never starved by a stream of small ones. A release
// (or a waiter leaving on timeout or stop) grants the queue from its head while requests fit.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>

namespace scopeflow::detail {

class FifoQuota {
public:
    using Clock = std::chrono::steady_clock;
    enum class Outcome : unsigned char { acquired, timed_out, cancelled };

    struct Counters {
        std::uint64_t capacity = 0;
        std::uint64_t used = 0;
        std::uint64_t peak = 0;
        std::size_t waiting = 0;
        std::uint64_t acquired = 0;  // requests granted
        std::uint64_t waits = 0;     // requests that had to queue (contention)
        std::uint64_t timeouts = 0;
        std::uint64_t cancelled = 0;
    };

    explicit FifoQuota(std::uint64_t capacity) noexcept
        : capacity_(capacity) {}
    FifoQuota(const FifoQuota&) = delete;
    FifoQuota& operator=(const FifoQuota&) = delete;

    // `amount` must not exceed the capacity (callers check: it could never be granted).
    // `waited` (optional) is set when the request had to queue.
    Outcome acquire(std::uint64_t amount,
                    const std::stop_token& stop,
                    Clock::time_point deadline,
                    bool* waited = nullptr);
    // Grants only if nobody waits and `amount` fits now.
    bool try_acquire(std::uint64_t amount) noexcept;
    void release(std::uint64_t amount) noexcept;
    [[nodiscard]] Counters counters() const;

    // `timeout` from now, saturated so "practically forever" never overflows.
    [[nodiscard]] static Clock::time_point deadline_after(std::chrono::milliseconds timeout);

private:
    struct Waiter {
        std::uint64_t amount = 0;
        std::condition_variable_any cv;
        bool granted = false;
    };

    void take_locked(std::uint64_t amount) noexcept;
    void grant_locked() noexcept;

    const std::uint64_t capacity_;
    mutable std::mutex mu_;
    std::deque<Waiter*> waiters_;  // guarded by mu_; oldest first
    std::uint64_t used_ = 0;       // guarded by mu_
    std::uint64_t peak_ = 0;       // guarded by mu_
    std::uint64_t acquired_ = 0;   // guarded by mu_
    std::uint64_t waits_ = 0;      // guarded by mu_
    std::uint64_t timeouts_ = 0;   // guarded by mu_
    std::uint64_t cancelled_ = 0;  // guarded by mu_
};

// What a named budget (files, memory) shares with the grants it hands out, which keep it alive.
struct BudgetState {
    BudgetState(std::string name_, std::uint64_t capacity, std::chrono::milliseconds timeout)
        : name(std::move(name_)),
          acquire_timeout(timeout),
          quota(capacity) {}

    const std::string name;
    const std::chrono::milliseconds acquire_timeout;
    FifoQuota quota;
};

}  // namespace scopeflow::detail
