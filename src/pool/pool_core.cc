// The machinery behind Pool<T> (include/scopeflow/pool/pool.h), with the connection's type
// erased: slots, the FIFO waiter queue, connect threads, validation, eviction and close.
//
// Locking: one mutex (mu_). A slot is reserved under it, the I/O (connect, validate, close)
// runs outside it, and the result is published under it again. `connecting_` counts slots
// reserved for an acquire and not yet lent, so close() waits for them.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <source_location>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <scopeflow/core/detail/coarse_clock.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/pool/pool.h>

#include "budget/fifo_quota.h"

namespace scopeflow {
namespace detail {

using PoolClock = std::chrono::steady_clock;

// One open connection and, while it is leased, who holds it. Leased slots form an intrusive
// list (prev/next) so borrowing and returning allocate nothing.
struct PoolSlot {
    std::unique_ptr<void, void (*)(void*) noexcept> conn;
    PoolClock::time_point expires;    // max: never
    PoolClock::time_point last_used;  // when it was last returned (or opened); coarse clock
    std::thread::id last_thread{};    // who returned it last (thread affinity)
    // While leased (guarded by the pool's mutex except `owner`, set before publication):
    ScopeRef owner;
    ResourceMonitor* monitor = nullptr;  // the owner scope's; must outlive the lease
    std::source_location site;
    PoolClock::time_point since;  // coarse clock
    bool leak_reported = false;
    PoolSlot* prev = nullptr;
    PoolSlot* next = nullptr;
};

}  // namespace detail

using detail::PoolSlot;

struct PoolBase::Impl {
    using Clock = detail::PoolClock;
    using SlotPtr = std::unique_ptr<PoolSlot>;

    // One blocked acquire(): served with a connection (`handed`) or a free slot (null: connect).
    struct Waiter : detail::FifoWaiters::Waiter {
        SlotPtr handed;
    };

    // One connect on its own thread, for an acquire() waiting with its deadline. Shared by the
    // two; every field guarded by mu_.
    struct ConnectJob {
        SlotPtr slot;              // the result
        std::exception_ptr error;  // or the failure
        bool done = false;
        bool abandoned = false;  // the caller gave up: the connect thread ends the reservation
        bool exited = false;     // run_connect returned: the thread can be joined at once
        std::thread thread;      // joined by the next connect or by ~Impl
    };

    // Where a failure to close a connection is reported: the lease owner's monitor for one that
    // came back from a lease, the pool's otherwise.
    struct ReportTo {
        ResourceMonitor* monitor;
        const ScopeRef* owner;  // null or empty: options.owner, else "pool <name>"
    };

    Impl(PoolOptions options, detail::ErasedPoolHooks hooks)
        : options_(std::move(options)),
          hooks_(std::move(hooks)),
          lease_label_("lease " + options_.name),
          connect_point_("pool." + options_.name + ".connect"),
          validate_point_("pool." + options_.name + ".validate"),
          close_point_("pool." + options_.name + ".close") {
        if (options_.housekeeping_interval > std::chrono::milliseconds::zero()) {
            housekeeper_ = std::jthread([this](std::stop_token st) { housekeep(st); });
        }
    }

    ~Impl() {
        housekeeper_.request_stop();
        if (housekeeper_.joinable()) {
            housekeeper_.join();
        }
        try {
            (void)close(std::chrono::milliseconds::zero());
        } catch (...) {  // NOLINT(bugprone-empty-catch): nothing can be reported from here
        }
        std::vector<std::thread> threads;
        {
            std::unique_lock lock(mu_);
            connected_cv_.wait(lock, [this] { return connect_threads_ == 0; });
            for (auto& job : connect_jobs_) {
                threads.push_back(std::move(job->thread));
            }
            connect_jobs_.clear();
        }
        // Joined, not detached: a connect thread's own exit (thread-local state of the C
        // clients, such as OpenSSL's) is over before the pool is gone.
        for (auto& t : threads) {
            t.join();
        }
    }

    // The fast path (an idle connection, nobody waiting, no validation due) takes the lock once
    // and reads only the coarse clock; it is recorded in the acquire-time histogram as 0.
    detail::PoolLoan lend(Scope& owner,
                          std::chrono::milliseconds timeout,
                          const std::source_location& site) {
        detail::PoolLoan loan;
        ScopeRef ref = owner.ref();
        ResourceMonitor* monitor = &owner.monitor();
        SlotPtr slot;
        Clock::time_point start{};  // precise; read only on the slow path
        {
            std::unique_lock lock(mu_);
            throw_if_closed_locked();
            const auto now = detail::coarse_steady_now();
            if (waiters_.empty() && !idle_.empty()) {
                prefer_own_locked();
            }
            if (waiters_.empty() && !idle_.empty() && !needs_check(*idle_.back(), now)) {
                slot = std::move(idle_.back());  // this thread's, or the most recently used
                idle_.pop_back();
                lend_locked(loan, std::move(slot), std::move(ref), monitor, site, now);
                acquire_time_.record(std::chrono::nanoseconds::zero());
            } else {
                start = Clock::now();
                if (waiters_.empty() && !idle_.empty()) {
                    slot = std::move(idle_.back());  // to be validated or replaced outside the lock
                    idle_.pop_back();
                    ++connecting_;
                } else if (waiters_.empty() && total_ < options_.max_size) {
                    ++total_;  // reserved: connect below
                    ++connecting_;
                } else {  // whoever serves us counts us in connecting_
                    slot = wait_locked(lock, owner.stop_token(), start + timeout, timeout);
                }
            }
        }
        if (loan.slot == nullptr) {
            // The slot is ours but not lent yet (connecting_ keeps close() waiting for it).
            slot = ready(std::move(slot), owner.stop_token(), start + timeout, timeout);
            std::unique_lock lock(mu_);
            if (closed_) {  // close() began while we validated or connected: not lent
                lock.unlock();
                end_reservation(std::move(slot));
                throw_closed();
            }
            --connecting_;
            lend_locked(loan, std::move(slot), std::move(ref), monitor, site,
                        detail::coarse_steady_now());
            acquire_time_.record(Clock::now() - start);
        }
        // Recorded only now that a connection is lent: a thread merely waiting holds nothing, so
        // its owner closing meanwhile is no leak. If the owner refuses (closing, injected fault),
        // the connection goes straight back.
        try {
            loan.ticket = owner.track({lease_label_, ResourceKind::connection}, site);
        } catch (...) {
            give_back(loan.slot, false);
            throw;
        }
        return loan;
    }

    void maintain() {
        const auto now = detail::coarse_steady_now();
        std::vector<SlotPtr> evict;
        std::vector<std::pair<ResourceMonitor*, Report>> leaks;
        {
            std::lock_guard lock(mu_);
            for (auto it = idle_.begin(); it != idle_.end();) {
                const bool expired = now >= (*it)->expires;
                const bool stale = options_.idle_timeout.count() > 0 &&
                                   now - (*it)->last_used >= options_.idle_timeout &&
                                   idle_.size() > options_.min_idle;
                if (expired || stale) {
                    evict.push_back(std::move(*it));
                    it = idle_.erase(it);
                } else {
                    ++it;
                }
            }
            if (options_.leak_threshold.count() > 0) {
                for (PoolSlot* b = borrowed_head_; b != nullptr; b = b->next) {
                    if (!b->leak_reported && now - b->since >= options_.leak_threshold) {
                        b->leak_reported = true;
                        ++leaks_;
                        leaks.emplace_back(b->monitor, leak_report(*b, now));
                    }
                }
            }
        }
        for (auto& [monitor, report] : leaks) {
            monitor->report(std::move(report));
        }
        for (auto& slot : evict) {
            discard_and_free(std::move(slot), false);
        }
        std::size_t top_up = 0;
        {
            std::lock_guard lock(mu_);
            if (!closed_ && waiters_.empty() && idle_.size() < options_.min_idle) {
                top_up = std::min(options_.min_idle - idle_.size(), options_.max_size - total_);
                total_ += top_up;
            }
        }
        for (std::size_t i = 0; i < top_up; ++i) {
            try {
                publish(open_slot());
            } catch (...) {  // counted in connect_failures; the slot is freed
                std::lock_guard lock(mu_);
                free_slot_locked();
            }
        }
    }

    PoolCloseReport close(std::chrono::milliseconds deadline) {
        std::vector<SlotPtr> idle;
        {
            std::lock_guard lock(mu_);
            closed_ = true;
            waiters_.notify_all();
            connected_cv_.notify_all();
            idle.swap(idle_);
        }
        for (auto& slot : idle) {
            discard_and_free(std::move(slot), false);
        }
        PoolCloseReport report{options_.name, {}};
        std::unique_lock lock(mu_);
        returned_cv_.wait_until(lock, Clock::now() + deadline,
                                [&] { return borrowed_ == 0 && connecting_ == 0; });
        const auto now = detail::coarse_steady_now();
        for (const PoolSlot* b = borrowed_head_; b != nullptr; b = b->next) {
            report.outstanding.push_back(
                {b->owner.path(), site_of(b->site),
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - b->since)});
        }
        return report;
    }

    [[nodiscard]] PoolStats stats() const {
        PoolStats s;
        {
            std::lock_guard lock(mu_);
            s.active = borrowed_;
            s.idle = idle_.size();
            s.pending = waiters_.size() + connect_waiters_;
            s.total = total_;
            s.created = created_;
            s.destroyed = destroyed_;
            s.timeouts = timeouts_;
            s.leaks = leaks_;
            s.broken = broken_;
            s.connect_failures = connect_failures_;
        }
        s.acquire_time = acquire_time_.snapshot();
        return s;
    }

    // Healthy connections go to the oldest waiter or the idle set; broken or expired ones (or
    // all, once closed) are closed outside the lock. The broken hook is the one place a
    // connection that broke while leased is recognised.
    void give_back(PoolSlot* returned, bool broken) noexcept {
        SlotPtr slot(returned);
        const auto now = detail::coarse_steady_now();
        ScopeRef owner;  // released after the lock: it may hold the owner's last reference
        ResourceMonitor* monitor = nullptr;
        if (!broken && hooks_.broken != nullptr) {
            try {
                broken = hooks_.broken(hooks_.hooks.get(), slot->conn.get());
            } catch (...) {  // a check that throws: treat the connection as broken
                broken = true;
            }
        }
        {
            std::lock_guard lock(mu_);
            unlink_locked(*slot);
            owner = std::move(slot->owner);
            monitor = slot->monitor;
            if (!broken && !closed_ && now < slot->expires) {
                slot->last_used = now;
                slot->last_thread = std::this_thread::get_id();
                // Not closed: nobody waits on returned_cv_. publish_locked(), spelled out so
                // the common case stays inline.
                if (waiters_.empty()) [[likely]] {
                    idle_.push_back(std::move(slot));
                } else {
                    hand_to_oldest_waiter_locked(std::move(slot));
                }
                return;
            }
        }
        discard_and_free(std::move(slot), broken, {monitor, &owner});
    }

    static std::string site_of(const std::source_location& s) {
        return std::string(s.file_name()) + ":" + std::to_string(s.line());
    }

    // Thread affinity: moves the idle slot this thread returned last (if any) to the back, where
    // lend() takes from. Idle sets are small (at most max_size): a short scan.
    void prefer_own_locked() {
        if (!options_.thread_affinity || idle_.size() < 2) {
            return;
        }
        const auto me = std::this_thread::get_id();
        if (idle_.back()->last_thread == me) {
            return;
        }
        for (std::size_t i = idle_.size() - 1; i-- > 0;) {
            if (idle_[i]->last_thread == me) {
                std::swap(idle_[i], idle_.back());
                return;
            }
        }
    }

    // True when an idle slot must not be lent as is: expired, or idle long enough to validate.
    bool needs_check(const PoolSlot& slot, Clock::time_point now) const noexcept {
        return now >= slot.expires || (hooks_.validate != nullptr &&
                                       (options_.validate_if_idle_for.count() == 0 ||
                                        now - slot.last_used > options_.validate_if_idle_for));
    }

    // Records the borrower in the slot, links it into the leased list, hands it to the loan.
    void lend_locked(detail::PoolLoan& loan,
                     SlotPtr slot,
                     ScopeRef owner,
                     ResourceMonitor* monitor,
                     const std::source_location& site,
                     Clock::time_point now) {
        slot->owner = std::move(owner);
        slot->monitor = monitor;
        slot->site = site;
        slot->since = now;
        slot->leak_reported = false;
        slot->prev = nullptr;
        slot->next = borrowed_head_;
        if (borrowed_head_ != nullptr) {
            borrowed_head_->prev = slot.get();
        }
        borrowed_head_ = slot.get();
        ++borrowed_;
        loan.conn = slot->conn.get();
        loan.slot = slot.release();
    }

    void unlink_locked(PoolSlot& slot) noexcept {
        if (slot.prev != nullptr) {
            slot.prev->next = slot.next;
        } else {
            borrowed_head_ = slot.next;
        }
        if (slot.next != nullptr) {
            slot.next->prev = slot.prev;
        }
        slot.prev = slot.next = nullptr;
        --borrowed_;
    }

    Report leak_report(const PoolSlot& b, Clock::time_point now) const {
        const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - b.since);
        return {.kind = ReportKind::leak,
                .scope_path = b.owner.path(),
                .resource = options_.name,
                .resource_kind = ResourceKind::connection,
                .site = site_of(b.site),
                .message = "lease of pool '" + options_.name + "' held for " +
                           std::to_string(held.count()) + "ms (leak_threshold " +
                           std::to_string(options_.leak_threshold.count()) + "ms)",
                .elapsed = now - b.since};
    }

    void throw_if_closed_locked() const {
        if (closed_) {
            throw_closed();
        }
    }

    [[noreturn]] void throw_closed() const {
        throw PoolClosedError("pool '" + options_.name + "' is closed");
    }

    // Queues the caller and waits to be served; null result: a slot was granted (connect).
    SlotPtr wait_locked(std::unique_lock<std::mutex>& lock,
                        const std::stop_token& stop,
                        Clock::time_point deadline,
                        std::chrono::milliseconds timeout) {
        Waiter self;
        if (waiters_.wait(lock, self, stop, deadline, [this] { return closed_; })) {
            return std::move(self.handed);  // served, even if also timed out
        }
        throw_if_closed_locked();
        if (stop.stop_requested()) {
            throw CancelledError("pool '" + options_.name + "': acquire cancelled");
        }
        ++timeouts_;
        throw TransientError(detail::pool_timeout_message(
            options_.name, timeout, borrowed_, idle_.size(), waiters_.size(), options_.max_size));
    }

    // Turns a borrowed idle slot (or none: a reserved one) into a usable connection, within the
    // deadline. Runs outside the lock; on failure ends the reservation and throws.
    SlotPtr ready(SlotPtr slot,
                  const std::stop_token& stop,
                  Clock::time_point deadline,
                  std::chrono::milliseconds timeout) {
        if (slot != nullptr) {
            const auto now = detail::coarse_steady_now();
            if (now >= slot->expires) {
                discard(std::move(slot), false, pool_reports());
            } else if (needs_check(*slot, now)) {
                bool ok = false;
                try {
                    if (options_.faults != nullptr) {
                        options_.faults->hit(FaultPhase::use, validate_point_);
                    }
                    ok = hooks_.validate(hooks_.hooks.get(), slot->conn.get());
                } catch (...) {  // NOLINT(bugprone-empty-catch): a throw means "not valid"
                }
                if (!ok) {
                    discard(std::move(slot), true, pool_reports());
                }
            }
        }
        if (slot != nullptr) {
            return slot;
        }
        return connect_until(stop, deadline, timeout);
    }

    // Connects on a thread of its own and waits for it until the deadline, a stop or close().
    // The reservation (a slot in total_ and connecting_) stays with the caller on success and is
    // ended here on failure, or by the connect thread once the caller has given up.
    SlotPtr connect_until(const std::stop_token& stop,
                          Clock::time_point deadline,
                          std::chrono::milliseconds timeout) {
        auto job = std::make_shared<ConnectJob>();
        std::vector<std::thread> exited;  // earlier connect threads, joined outside the lock
        bool started = false;
        {
            std::unique_lock lock(mu_);
            if (closed_) {  // granted a slot as close() began: do not start a connect for it
                lock.unlock();
                end_reservation(nullptr);
                throw_closed();
            }
            std::erase_if(connect_jobs_, [&](const std::shared_ptr<ConnectJob>& j) {
                if (!j->exited) {
                    return false;
                }
                exited.push_back(std::move(j->thread));
                return true;
            });
            connect_jobs_.push_back(job);
            try {
                // Started under the lock, so job->thread is set before anyone can reap it.
                // Not a shared_ptr to the pool: ~Impl waits for and joins this thread, so the
                // pool (and what its hooks refer to) dies when its user drops it.
                job->thread = std::thread([this, job] { run_connect(*job); });
                ++connect_threads_;
                started = true;
            } catch (const std::system_error&) {  // no thread to spare: see below
                connect_jobs_.pop_back();
            }
        }
        for (auto& t : exited) {
            t.join();
        }
        if (!started) {
            // Connect on the caller's thread, unbounded, rather than fail.
            try {
                return open_slot();
            } catch (...) {
                end_reservation(nullptr);
                throw;
            }
        }
        std::unique_lock lock(mu_);
        ++connect_waiters_;
        connected_cv_.wait_until(lock, stop, deadline, [&] { return job->done || closed_; });
        --connect_waiters_;
        if (job->done && job->slot != nullptr) {
            return std::move(job->slot);  // even if closed meanwhile: lend() closes it
        }
        if (job->done) {
            lock.unlock();
            end_reservation(nullptr);
            std::rethrow_exception(job->error);
        }
        job->abandoned = true;
        throw_if_closed_locked();
        if (stop.stop_requested()) {
            throw CancelledError("pool '" + options_.name +
                                 "': acquire cancelled while connecting");
        }
        ++timeouts_;
        throw TransientError(detail::pool_timeout_message(options_.name, timeout, borrowed_,
                                                          idle_.size(), waiters_.size(),
                                                          options_.max_size) +
                             " (a connect was still running)");
    }

    // The connect thread's body: connects, then hands the result to its caller, or, if the
    // caller gave up, to the pool (the oldest waiter or the idle set; closed if the pool closed).
    void run_connect(ConnectJob& job) {
        SlotPtr slot;
        std::exception_ptr error;
        try {
            slot = open_slot();
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::unique_lock lock(mu_);
            if (!job.abandoned) {
                job.slot = std::move(slot);
                job.error = error;
                job.done = true;
                connected_cv_.notify_all();
            } else if (slot != nullptr && !closed_) {
                --connecting_;
                slot->last_thread = {};
                publish_locked(std::move(slot));
            } else {
                lock.unlock();
                end_reservation(std::move(slot));
            }
        }
        // Last touch of the pool: ~Impl may run as soon as this lock is released (and then
        // joins this thread).
        std::lock_guard lock(mu_);
        job.exited = true;
        --connect_threads_;
        connected_cv_.notify_all();
    }

    // Ends a reservation that will not be lent: closes its connection (if any), frees the slot
    // for the oldest waiter (or for good) and lets close() stop waiting for it.
    void end_reservation(SlotPtr slot) noexcept {
        if (slot != nullptr) {
            discard(std::move(slot), false, pool_reports());
        }
        std::lock_guard lock(mu_);
        --connecting_;
        free_slot_locked();
        returned_cv_.notify_all();
    }

    // Connects (outside the lock). Non-scopeflow exceptions become TransientError.
    SlotPtr open_slot() {
        try {
            const auto now = detail::coarse_steady_now();
            auto life = Clock::time_point::max();
            if (options_.max_lifetime.count() > 0) {
                const double f = detail::pool_lifetime_factor(options_.lifetime_jitter);
                life = now + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double, std::milli>(
                                     static_cast<double>(options_.max_lifetime.count()) * f));
            }
            if (options_.faults != nullptr) {
                options_.faults->hit(FaultPhase::acquire, connect_point_);
            }
            auto slot = std::make_unique<PoolSlot>(
                PoolSlot{.conn = {hooks_.connect(hooks_.hooks.get()), hooks_.destroy},
                         .expires = life,
                         .last_used = detail::coarse_steady_now()});
            std::lock_guard lock(mu_);
            ++created_;
            return slot;
        } catch (const Error&) {
            count_connect_failure();
            throw;
        } catch (...) {
            count_connect_failure();
            throw TransientError("pool '" + options_.name +
                                 "': connect failed: " + message_of(std::current_exception()));
        }
    }

    void count_connect_failure() {
        std::lock_guard lock(mu_);
        ++connect_failures_;
    }

    ReportTo pool_reports() const noexcept { return {options_.monitor, nullptr}; }

    // Closes a connection outside the lock; the slot stays reserved (the caller frees or reuses).
    // Out of line, like discard_and_free: kept off the return path's code.
    [[gnu::noinline]] void discard(SlotPtr slot, bool broken, ReportTo report_to) noexcept {
        std::exception_ptr errors[2];
        if (options_.faults != nullptr) {
            try {
                options_.faults->hit(FaultPhase::release, close_point_);
            } catch (...) {
                errors[0] = std::current_exception();
            }
        }
        try {
            hooks_.close(hooks_.hooks.get(), slot->conn.get());
        } catch (...) {
            errors[1] = std::current_exception();
        }
        slot.reset();
        for (const auto& error : errors) {
            if (error) {
                detail::report_pool_close_failure(
                    report_to.monitor, report_to.owner != nullptr ? report_to.owner->path() : "",
                    options_, error);
            }
        }
        std::lock_guard lock(mu_);
        ++destroyed_;
        broken_ += broken ? 1 : 0;
    }

    // Closes a connection and frees its slot (for the oldest waiter, or for good).
    [[gnu::noinline]] void discard_and_free(SlotPtr slot,
                                            bool broken,
                                            ReportTo report_to) noexcept {
        discard(std::move(slot), broken, report_to);
        std::lock_guard lock(mu_);
        free_slot_locked();
        returned_cv_.notify_all();
    }
    void discard_and_free(SlotPtr slot, bool broken) noexcept {
        discard_and_free(std::move(slot), broken, pool_reports());
    }

    void publish(SlotPtr slot) {
        std::lock_guard lock(mu_);
        publish_locked(std::move(slot));
    }

    void publish_locked(SlotPtr slot) {
        if (waiters_.empty()) [[likely]] {
            idle_.push_back(std::move(slot));
        } else {
            hand_to_oldest_waiter_locked(std::move(slot));
        }
    }

    // Kept out of line: the uncontended return path only pushes to idle_.
    [[gnu::noinline]] void hand_to_oldest_waiter_locked(SlotPtr slot) {
        ++connecting_;  // the waiter's until it lends it
        waiters_.serve_front<Waiter>([&](Waiter& w) { w.handed = std::move(slot); });
    }

    // A slot's connection is gone: the slot goes to the oldest waiter (which connects) or away.
    void free_slot_locked() {
        if (!waiters_.empty() && !closed_) {
            ++connecting_;  // the waiter's until it lends a connection or gives the slot up
            waiters_.serve_front<Waiter>([](Waiter&) {});
        } else {
            --total_;
        }
    }

    void housekeep(const std::stop_token& st) {
        while (sleep_for(options_.housekeeping_interval, st)) {
            maintain();
        }
    }

    const PoolOptions options_;
    const detail::ErasedPoolHooks hooks_;
    const std::string lease_label_;    // "lease <name>": the ledger entry of each lease
    const std::string connect_point_;  // fault points: "pool.<name>.connect", ...
    const std::string validate_point_;
    const std::string close_point_;
    Histogram acquire_time_;

    mutable std::mutex mu_;
    std::condition_variable returned_cv_;       // a lease came back or a connect ended
    std::condition_variable_any connected_cv_;  // a connect thread finished, or close()
    std::vector<SlotPtr> idle_;                 // guarded by mu_; most recent last (roughly)
    detail::FifoWaiters waiters_;               // guarded by mu_; blocked acquires, oldest first
    PoolSlot* borrowed_head_ = nullptr;         // guarded by mu_; leased slots, newest first
    std::size_t borrowed_ = 0;                  // guarded by mu_; leases out
    std::size_t total_ = 0;                     // guarded by mu_; slots in use
    // guarded by mu_; slots reserved for an acquire and not yet lent (validating, connecting,
    // handed to a waiter not yet awake, or a connect whose caller gave up): close() waits for them
    std::size_t connecting_ = 0;
    std::size_t connect_waiters_ = 0;  // guarded by mu_; acquires waiting for their connect
    std::size_t connect_threads_ = 0;  // guarded by mu_; connect threads running (~Impl waits)
    std::vector<std::shared_ptr<ConnectJob>> connect_jobs_;  // guarded by mu_; threads to join
    bool closed_ = false;                                    // guarded by mu_
    std::uint64_t created_ = 0;                              // guarded by mu_
    std::uint64_t destroyed_ = 0;                            // guarded by mu_
    std::uint64_t timeouts_ = 0;                             // guarded by mu_
    std::uint64_t leaks_ = 0;                                // guarded by mu_
    std::uint64_t broken_ = 0;                               // guarded by mu_
    std::uint64_t connect_failures_ = 0;                     // guarded by mu_
    std::jthread housekeeper_;  // declared last: stopped and joined first
};

PoolBase::PoolBase(PoolOptions options, detail::ErasedPoolHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(hooks))) {}

PoolBase::~PoolBase() = default;

detail::PoolLoan PoolBase::lend(Scope& owner, const std::source_location& site) {
    return impl_->lend(owner, impl_->options_.acquire_timeout, site);
}

detail::PoolLoan PoolBase::lend(Scope& owner,
                                std::chrono::milliseconds timeout,
                                const std::source_location& site) {
    return impl_->lend(owner, timeout, site);
}

void PoolBase::give_back(PoolSlot* slot, bool broken) noexcept {
    impl_->give_back(slot, broken);
}

void PoolBase::maintain() {
    impl_->maintain();
}

PoolCloseReport PoolBase::close(std::chrono::milliseconds deadline) {
    return impl_->close(deadline);
}

PoolStats PoolBase::stats() const {
    return impl_->stats();
}

const PoolOptions& PoolBase::options() const noexcept {
    return impl_->options_;
}

const std::string& PoolBase::name() const noexcept {
    return impl_->options_.name;
}

}  // namespace scopeflow
