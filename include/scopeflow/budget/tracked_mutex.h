// TrackedMutex: a named mutex whose holds are tracked resources with hold-time metrics.
//
//   scopeflow::TrackedMutex index_lock({.name = "orders-index", .long_hold = 200ms});
//   {
//       scopeflow::TrackedLock lock = index_lock.lock(worker_scope);
//       rebuild_index();
//   }                                          // unlocked here
//   index_lock.holder();                       // who holds it now, since when, from where
//   index_lock.stats().hold_time.quantile(0.99);
//
// Behaviour:
// - lock() waits in arrival order, up to the timeout (options.acquire_timeout unless given), and
//   throws BudgetTimeoutError naming the mutex and its current holder (scope path, site, hold
//   time); CancelledError when the owner scope is stopped; ScopeClosedError when it is closing.
// - Not recursive: locking it again from the same holder waits (and times out).
// - Each hold is recorded in the owner scope's ledger (kind lock) through a Ticket: a lock still
//   held when its owner scope ends is reported as a leak, naming the owner and the site.
// - Hold times go into a histogram; a lock that had to wait counts as contended; a hold longer
//   than options.long_hold is reported on unlock to the owner scope's monitor
//   (ReportKind::leak, as Pool reports leases past leak_threshold).
//
// The bookkeeping (a ledger entry, the holder's path) costs a few hundred nanoseconds per lock:
// use it for coarse locks guarding shared resources, not in tight loops.
//
// Thread safety: every TrackedMutex member may be called concurrently. A TrackedLock is a
// move-only value; it may be unlocked on another thread. Locks keep the mutex's state alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <string>

#include <scopeflow/budget/holder.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/core/ticket.h>

namespace scopeflow {

class Scope;

namespace detail {
struct SemaphoreState;
}  // namespace detail

// Used with designated initializers: {.name = "orders-index", .long_hold = 200ms}.
struct TrackedMutexOptions {
    std::string name = "mutex";                         // shown in errors, stats, ledger, reports
    std::chrono::milliseconds acquire_timeout{30'000};  // lock() waits at most this long
    std::chrono::milliseconds long_hold{0};             // holds longer are reported; 0: never
};

struct TrackedMutexStats {
    std::string name;
    bool locked = false;
    std::size_t waiting = 0;      // lock() calls queued now
    std::uint64_t acquired = 0;   // successful locks
    std::uint64_t contended = 0;  // locks that had to wait
    std::uint64_t timeouts = 0;
    std::uint64_t cancelled = 0;
    std::uint64_t long_holds = 0;   // holds past long_hold
    Histogram::Snapshot hold_time;  // lock to unlock
};

class [[nodiscard]] TrackedLock {
public:
    TrackedLock() noexcept = default;
    TrackedLock(TrackedLock&& other) noexcept = default;
    TrackedLock& operator=(TrackedLock&& other) noexcept;
    TrackedLock(const TrackedLock&) = delete;
    TrackedLock& operator=(const TrackedLock&) = delete;
    ~TrackedLock() { unlock(); }

    // Unlocks now (the destructor does it otherwise). Idempotent.
    void unlock() noexcept;
    [[nodiscard]] bool owns_lock() const noexcept { return state_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }

private:
    friend class TrackedMutex;
    std::shared_ptr<detail::SemaphoreState> state_;
    Ticket ticket_;
    std::uint64_t hold_ = 0;
};

class TrackedMutex {
public:
    explicit TrackedMutex(TrackedMutexOptions options);
    TrackedMutex(const TrackedMutex&) = delete;
    TrackedMutex& operator=(const TrackedMutex&) = delete;
    ~TrackedMutex();

    TrackedLock lock(Scope& owner, std::source_location site = std::source_location::current());
    TrackedLock lock(Scope& owner,
                     std::chrono::milliseconds timeout,
                     std::source_location site = std::source_location::current());
    // Locks if free and nobody waits; an empty lock otherwise (never waits).
    TrackedLock try_lock(Scope& owner, std::source_location site = std::source_location::current());

    [[nodiscard]] const std::string& name() const noexcept;
    // The current holder, if any.
    [[nodiscard]] std::optional<Holder> holder() const;
    [[nodiscard]] TrackedMutexStats stats() const;

private:
    TrackedLock grant(Scope& owner, Ticket ticket, const std::source_location& site);

    std::shared_ptr<detail::SemaphoreState> state_;
};

}  // namespace scopeflow
