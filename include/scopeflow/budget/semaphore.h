// Semaphore: a named counting semaphore whose permits are tracked resources.
//
//   scopeflow::Semaphore api_slots({.name = "geo-api", .permits = 4, .long_hold = 5s});
//   {
//       scopeflow::SemaphorePermit p = api_slots.acquire(task_scope);  // FIFO, stop-aware
//       call_the_api();
//   }                                                                  // given back here
//   scopeflow::SemaphoreStats s = api_slots.stats();  // in use, waits, timeouts, hold times
//
// Behaviour:
// - Waiters are served strictly in arrival order. acquire() waits up to the timeout
//   (options.acquire_timeout unless given) and throws BudgetTimeoutError naming the semaphore,
//   its usage and its current holders; it throws CancelledError when the owner scope is stopped
//   (its stop token), and ScopeClosedError when the owner scope is closing.
// - Each permit is recorded in the owner scope's ledger (kind semaphore) through a Ticket, like a
//   pool lease: a permit still held when its owner scope ends is reported as a leak, naming the
//   owner and the acquisition site.
// - Hold times (acquire to release) go into a histogram. A permit held longer than
//   options.long_hold is reported on release to the owner scope's monitor (ReportKind::leak, as
//   Pool reports leases past leak_threshold) and counted in stats().long_holds.
//
// Thread safety: every Semaphore member may be called concurrently. A SemaphorePermit is a
// move-only value used by one thread at a time; it may be released on any thread. Permits keep
// the semaphore's state alive, so they may outlive the Semaphore object. The owner scope's
// monitor must outlive the permits taken in that scope.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <vector>

#include <scopeflow/budget/holder.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/core/ticket.h>

namespace scopeflow {

class Scope;

namespace detail {
struct SemaphoreState;
}  // namespace detail

// Used with designated initializers: {.name = "geo-api", .permits = 4}.
struct SemaphoreOptions {
    std::string name = "semaphore";                     // shown in errors, stats, ledger, reports
    std::size_t permits = 1;                            // held at once at most (>= 1)
    std::chrono::milliseconds acquire_timeout{30'000};  // acquire() waits at most this long
    std::chrono::milliseconds long_hold{0};             // holds longer are reported; 0: never
};

struct SemaphoreStats {
    std::string name;
    std::size_t permits = 0;
    std::size_t in_use = 0;
    std::size_t peak = 0;        // most permits held at once
    std::size_t waiting = 0;     // acquire() calls queued now
    std::uint64_t acquired = 0;  // permits granted
    std::uint64_t waits = 0;     // acquires that had to queue (contention)
    std::uint64_t timeouts = 0;
    std::uint64_t cancelled = 0;    // acquires ended by a stop request
    std::uint64_t long_holds = 0;   // holds past long_hold
    Histogram::Snapshot hold_time;  // acquire to release, per permit
};

class [[nodiscard]] SemaphorePermit {
public:
    SemaphorePermit() noexcept = default;
    SemaphorePermit(SemaphorePermit&& other) noexcept = default;
    SemaphorePermit& operator=(SemaphorePermit&& other) noexcept;
    SemaphorePermit(const SemaphorePermit&) = delete;
    SemaphorePermit& operator=(const SemaphorePermit&) = delete;
    ~SemaphorePermit() { release(); }

    // Gives the permit back now (the destructor does it otherwise). Idempotent.
    void release() noexcept;
    [[nodiscard]] bool held() const noexcept { return state_ != nullptr; }
    explicit operator bool() const noexcept { return held(); }

private:
    friend class Semaphore;
    std::shared_ptr<detail::SemaphoreState> state_;
    Ticket ticket_;
    std::uint64_t hold_ = 0;  // id in the state's hold book
};

class Semaphore {
public:
    // Throws ConfigError("semaphore.<name>.permits") when permits is 0.
    explicit Semaphore(SemaphoreOptions options);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore();

    SemaphorePermit acquire(Scope& owner,
                            std::source_location site = std::source_location::current());
    SemaphorePermit acquire(Scope& owner,
                            std::chrono::milliseconds timeout,
                            std::source_location site = std::source_location::current());
    // A permit if one is free and nobody waits; an empty permit otherwise (never waits).
    SemaphorePermit try_acquire(Scope& owner,
                                std::source_location site = std::source_location::current());

    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] SemaphoreStats stats() const;
    [[nodiscard]] std::vector<Holder> holders() const;

private:
    SemaphorePermit grant(Scope& owner, Ticket ticket, const std::source_location& site);

    std::shared_ptr<detail::SemaphoreState> state_;
};

}  // namespace scopeflow
