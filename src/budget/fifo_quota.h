// FifoWaiters: threads blocked under their owner's mutex, served strictly in arrival order.
// FifoQuota: a weighted counting semaphore built on it, with a deadline and a stop token; the
// engine under MemoryBudget, FileBudget, Semaphore and TrackedMutex. Pool<T>'s blocked acquires
// queue in a FifoWaiters too (src/pool/pool_core.cc), served with a connection or a free slot.
//
// A request is granted at once only when nobody waits and it fits; otherwise it queues behind
// every earlier request, so a large request is never starved by a stream of small ones. A release
// (or a waiter leaving on timeout or stop) grants the queue from its head while requests fit.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>

namespace scopeflow::detail {

// The queue is guarded by its owner's mutex: every member is called with it held. The owner
// decides what serving means (a share of a quota, a connection, a slot) and keeps it in its own
// waiter type, derived from Waiter.
class FifoWaiters {
public:
    using Clock = std::chrono::steady_clock;

    struct Waiter {
        std::condition_variable_any cv;
        bool served = false;
    };

    // Queues `self` last and waits on `lock` (the owner's mutex, held) until `self` is served,
    // `deadline` passes, `stop` is requested or `interrupted()` is true (re-checked when
    // notify_all() wakes the queue). True when served, even if the deadline or a stop came at
    // the same time; false once `self` has left the queue.
    template <typename Interrupted>
    bool wait(std::unique_lock<std::mutex>& lock,
              Waiter& self,
              const std::stop_token& stop,
              Clock::time_point deadline,
              Interrupted interrupted) {
        queue_.push_back(&self);
        self.cv.wait_until(lock, stop, deadline, [&] { return self.served || interrupted(); });
        if (self.served) {
            return true;
        }
        queue_.erase(std::find(queue_.begin(), queue_.end(), &self));
        return false;
    }

    [[nodiscard]] bool empty() const noexcept { return queue_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return queue_.size(); }
    // The oldest waiter, as the owner's type W. Requires !empty().
    template <typename W>
    [[nodiscard]] W& front() const noexcept {
        return static_cast<W&>(*queue_.front());
    }
    // Takes the oldest waiter off the queue, lets `fill` record what it is served with, and
    // wakes it (under the owner's lock: the waiter cannot leave before this). Requires !empty().
    template <typename W, typename Fill>
    void serve_front(Fill&& fill) {
        W& w = front<W>();
        queue_.pop_front();
        fill(w);
        w.served = true;
        w.cv.notify_one();
    }
    // Wakes every waiter to re-check its `interrupted` condition.
    void notify_all() noexcept {
        for (Waiter* w : queue_) {
            w->cv.notify_all();
        }
    }

private:
    std::deque<Waiter*> queue_;  // oldest first
};

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
    struct Waiter : FifoWaiters::Waiter {
        std::uint64_t amount = 0;
    };

    void take_locked(std::uint64_t amount) noexcept;
    void grant_locked() noexcept;

    const std::uint64_t capacity_;
    mutable std::mutex mu_;
    FifoWaiters waiters_;          // guarded by mu_
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
