// Pool<T>: a bounded pool of connections of any type, leased to scopes (HikariCP's model).
//
// Connectors plug in through PoolHooks<T>: connect() opens one, validate() checks one borrowed
// after being idle a while, close() closes one (default: T's close() if it has one, then ~T),
// broken() tells a connection that broke while leased (checked on every return).
// A Lease is movable and keeps the pool alive, so it may escape the caller's frame; it carries
// a ledger Ticket from its owner scope, taken when the connection is lent (never while merely
// waiting), so a lease still out when that scope ends is reported as a leak by the scope
// machinery, and one returned after that as a late release. Options, stats and errors live in
// pool_options.h.
//
//   auto pool = scopeflow::make_pool<PgConn>({.name = "orders-db", .max_size = 8},
//                                           {.connect = [&] { return PgConn::open(dsn); },
//                                            .validate = [](PgConn& c) { return c.ping(); }});
//   {
//       auto lease = pool->acquire(worker_scope);  // waits up to acquire_timeout, FIFO
//       lease->exec("...");
//       if (lost_connection) lease.mark_broken();  // closed and replaced, never reused
//   }                                              // returned here
//   pool->maintain();                              // housekeeping (or set housekeeping_interval)
//   PoolCloseReport r = pool->close(5s);           // waits for leases, names those still out
//
// Behaviour:
// - connect, validate and close never run under the pool's mutex: a slot is reserved under the
//   lock, the I/O runs outside it, and the result is published under the lock again.
// - Waiters are served strictly in arrival order: a returned connection (or a freed slot) is
//   handed to the oldest waiter, never to a newcomer.
// - acquire_timeout bounds the whole acquire, connecting included (HikariCP's
//   connectionTimeout): a connect runs on its own thread while the caller waits with its
//   deadline and its owner's stop token. A connect that finishes after the caller gave up
//   becomes an idle connection (or serves the next waiter), never a leak; ~Pool waits for such
//   connects, so hooks may refer to anything that outlives the pool, as before. validate() runs
//   on the caller's thread and should be cheap or bounded by the connector's own timeout.
// - acquire() throws TransientError on timeout (message names the pool and its counts),
//   CancelledError when the owner scope is stopped, PoolClosedError once close() has begun (also
//   to an acquire whose connect was under way: that connection is closed). A connect() that
//   throws a scopeflow::Error propagates unchanged; any other exception becomes a
//   TransientError. Either way the reserved slot is freed.
// - Reports: a connection that fails to close is reported to the monitor of the lease's owner
//   when it was returned by a lease, else to options.monitor (null: the global one) naming
//   options.owner (empty: "pool <name>"). Leaks past leak_threshold go to the owner's monitor.
// - Fault points (options.faults): "pool.<name>.connect" (FaultPhase::acquire, before each
//   connect: a throw is a failed connect, a hang a slow one), "pool.<name>.validate"
//   (FaultPhase::use: a throw is a failed validation) and "pool.<name>.close"
//   (FaultPhase::release: a throw is a failed close, reported; the connection is still closed).
// - Expired connections (max_lifetime shortened by a random jitter) are closed when returned
//   or found idle; maintain() also closes those idle past idle_timeout (down to min_idle), tops
//   up to min_idle, and reports leases held past leak_threshold once each to the owner scope's
//   monitor (ReportKind::leak).
//
// Thread safety: every Pool member may be called concurrently. A Lease is a move-only value for
// one thread at a time; it may be destroyed on any thread. Hooks are called concurrently from
// the threads that acquire, return and maintain, and from the pool's connect threads.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
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
#include <scopeflow/core/detail/resource_ops.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/ticket.h>

namespace scopeflow {

template <typename T>
struct PoolHooks {
    std::function<T()> connect{};        // required: opens a connection (may throw)
    std::function<bool(T&)> validate{};  // optional: false or a throw discards it
    std::function<void(T&)> close{};     // optional; default: T's close() if any, then ~T
    // Optional, cheap and without I/O: true when a returned connection broke while leased (a
    // connector's own "broken" flag). Such a connection is closed and replaced, as if the lease
    // had been marked broken, so a caller that forgot mark_broken() cannot pass it on.
    std::function<bool(const T&)> broken{};
};

template <typename T>
class Pool : public std::enable_shared_from_this<Pool<T>> {
    struct PrivateTag {
        explicit PrivateTag() = default;
    };
    using Clock = std::chrono::steady_clock;

    // One open connection and, while it is leased, who holds it. Leased slots form an intrusive
    // list (prev/next) so borrowing and returning allocate nothing.
    struct Slot {
        T conn;
        Clock::time_point expires;      // max: never
        Clock::time_point last_used;    // when it was last returned (or opened); coarse clock
        std::thread::id last_thread{};  // who returned it last (thread affinity)
        // While leased (guarded by the pool's mutex except `owner`, set before publication):
        ScopeRef owner;
        ResourceMonitor* monitor = nullptr;  // the owner scope's; must outlive the lease
        std::source_location site;
        Clock::time_point since;  // coarse clock
        bool leak_reported = false;
        Slot* prev = nullptr;
        Slot* next = nullptr;
    };

public:
    class [[nodiscard]] Lease {
    public:
        Lease() noexcept = default;
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&& other) noexcept {
            if (this != &other) {
                release();
                pool_ = std::move(other.pool_);
                slot_ = std::move(other.slot_);
                ticket_ = std::move(other.ticket_);
                broken_ = other.broken_;
            }
            return *this;
        }
        ~Lease() { release(); }

        [[nodiscard]] T& get() const noexcept { return slot_->conn; }
        [[nodiscard]] T& operator*() const noexcept { return slot_->conn; }
        [[nodiscard]] T* operator->() const noexcept { return &slot_->conn; }
        explicit operator bool() const noexcept { return slot_ != nullptr; }

        // The connection is unusable: on return it is closed and its slot freed, never reused.
        void mark_broken() noexcept { broken_ = true; }
        // Returns the connection now (the destructor does it otherwise). Idempotent.
        void release() noexcept {
            if (slot_ != nullptr) {
                ticket_.release();
                pool_->give_back(std::move(slot_), broken_);
            }
            pool_.reset();
        }

    private:
        friend class Pool;
        std::shared_ptr<Pool> pool_;
        std::unique_ptr<Slot> slot_;
        Ticket ticket_;
        bool broken_ = false;
    };

    // Validates options (ConfigError "pool.<name>.<field>"); connects nothing until acquire()
    // or maintain() (which tops up to min_idle).
    static std::shared_ptr<Pool> create(PoolOptions options, PoolHooks<T> hooks) {
        validate_pool_options(options);
        if (!hooks.connect) {
            throw ConfigError("pool." + options.name + ".connect", "a connect hook is required");
        }
        return std::make_shared<Pool>(PrivateTag{}, std::move(options), std::move(hooks));
    }

    Pool(PrivateTag, PoolOptions options, PoolHooks<T> hooks)
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
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    // Closes without waiting for leases (none can be out: leases keep the pool alive), then
    // waits for connects still running on their own threads (callers that gave up on them),
    // which the connectors bound with their connect timeouts. Never throws.
    ~Pool() {
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

    Lease acquire(Scope& owner, std::source_location site = std::source_location::current()) {
        return acquire(owner, options_.acquire_timeout, site);
    }

    // The fast path (an idle connection, nobody waiting, no validation due) takes the lock once
    // and reads only the coarse clock; it is recorded in the acquire-time histogram as 0.
    Lease acquire(Scope& owner,
                  std::chrono::milliseconds timeout,
                  std::source_location site = std::source_location::current()) {
        Lease lease;
        ScopeRef ref = owner.ref();
        ResourceMonitor* monitor = &owner.monitor();
        std::unique_ptr<Slot> slot;
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
                lend_locked(lease, std::move(slot), std::move(ref), monitor, site, now);
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
        if (!lease) {
            // The slot is ours but not leased yet (connecting_ keeps close() waiting for it).
            slot = ready(std::move(slot), owner.stop_token(), start + timeout, timeout);
            std::unique_lock lock(mu_);
            if (closed_) {  // close() began while we validated or connected: not lent
                lock.unlock();
                end_reservation(std::move(slot));
                throw_closed();
            }
            --connecting_;
            lend_locked(lease, std::move(slot), std::move(ref), monitor, site,
                        detail::coarse_steady_now());
            acquire_time_.record(Clock::now() - start);
        }
        // Recorded only now that a connection is lent: a thread merely waiting holds nothing, so
        // its owner closing meanwhile is no leak. If the owner refuses (closing, injected fault),
        // the connection goes straight back.
        try {
            lease.ticket_ = owner.track({lease_label_, ResourceKind::connection}, site);
        } catch (...) {
            lease.release();
            throw;
        }
        return lease;
    }

    // Housekeeping: closes idle connections past max_lifetime or idle_timeout (keeping
    // min_idle), reports leases held past leak_threshold, tops the idle set up to min_idle.
    // Connect failures while topping up are counted, not thrown.
    void maintain() {
        const auto now = detail::coarse_steady_now();
        std::vector<std::unique_ptr<Slot>> evict;
        std::vector<std::pair<ResourceMonitor*, const Slot*>> leaked;
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
                for (Slot* b = borrowed_head_; b != nullptr; b = b->next) {
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

    // Stops handing out connections (acquire throws PoolClosedError, waiters wake with it),
    // closes idle ones, waits up to `deadline` for leases to come back (closing each as it
    // returns) and reports those still out. Idempotent.
    PoolCloseReport close(std::chrono::milliseconds deadline) {
        std::vector<std::unique_ptr<Slot>> idle;
        {
            std::lock_guard lock(mu_);
            closed_ = true;
            for (Waiter* w : waiters_) {
                w->cv.notify_all();
            }
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
        for (const Slot* b = borrowed_head_; b != nullptr; b = b->next) {
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

    [[nodiscard]] const PoolOptions& options() const noexcept { return options_; }
    [[nodiscard]] const std::string& name() const noexcept { return options_.name; }

private:
    // One blocked acquire(): served by handing it a connection or granting it a slot.
    struct Waiter {
        std::condition_variable_any cv;
        std::unique_ptr<Slot> handed;  // a connection handed over by give_back/publish
        bool granted = false;          // a slot reserved for it: connect
    };

    // One connect on its own thread, for an acquire() waiting with its deadline. Shared by the
    // two; every field guarded by mu_.
    struct ConnectJob {
        std::unique_ptr<Slot> slot;  // the result
        std::exception_ptr error;    // or the failure
        bool done = false;
        bool abandoned = false;  // the caller gave up: the connect thread ends the reservation
        bool exited = false;     // run_connect returned: the thread can be joined at once
        std::thread thread;      // joined by the next connect or by ~Pool
    };

    static std::string site_of(const std::source_location& s) {
        return std::string(s.file_name()) + ":" + std::to_string(s.line());
    }

    // Thread affinity: moves the idle slot this thread returned last (if any) to the back, where
    // acquire() takes from. Idle sets are small (at most max_size): a short scan.
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
    bool needs_check(const Slot& slot, Clock::time_point now) const noexcept {
        return now >= slot.expires ||
               (hooks_.validate && (options_.validate_if_idle_for.count() == 0 ||
                                    now - slot.last_used > options_.validate_if_idle_for));
    }

    // Records the borrower in the slot, links it into the leased list, hands it to the lease.
    void lend_locked(Lease& lease,
                     std::unique_ptr<Slot> slot,
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
        lease.slot_ = std::move(slot);
        lease.pool_ = this->shared_from_this();
    }

    void unlink_locked(Slot& slot) noexcept {
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

    Report leak_report(const Slot& b, Clock::time_point now) const {
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

    // Queues the caller and waits to be served; null result: a slot was granted (connect).
    std::unique_ptr<Slot> wait_locked(std::unique_lock<std::mutex>& lock,
                                      std::stop_token stop,
                                      Clock::time_point deadline,
                                      std::chrono::milliseconds timeout) {
        Waiter self;
        waiters_.push_back(&self);
        self.cv.wait_until(lock, stop, deadline,
                           [&] { return self.handed != nullptr || self.granted || closed_; });
        if (self.handed != nullptr || self.granted) {  // served, even if also timed out
            return std::move(self.handed);
        }
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
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
    std::unique_ptr<Slot> ready(std::unique_ptr<Slot> slot,
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
                    ok = hooks_.validate(slot->conn);
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
    std::unique_ptr<Slot> connect_until(const std::stop_token& stop,
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
                // Not a shared_ptr to the pool: ~Pool waits for and joins this thread, so the
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
            return std::move(job->slot);  // even if closed meanwhile: acquire() closes it
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
        std::unique_ptr<Slot> slot;
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
        // Last touch of the pool: ~Pool may run as soon as this lock is released (and then
        // joins this thread).
        std::lock_guard lock(mu_);
        job.exited = true;
        --connect_threads_;
        connected_cv_.notify_all();
    }

    // Ends a reservation that will not be lent: closes its connection (if any), frees the slot
    // for the oldest waiter (or for good) and lets close() stop waiting for it.
    void end_reservation(std::unique_ptr<Slot> slot) noexcept {
        if (slot != nullptr) {
            discard(std::move(slot), false, pool_reports());
        }
        std::lock_guard lock(mu_);
        --connecting_;
        free_slot_locked();
        returned_cv_.notify_all();
    }

    [[noreturn]] void throw_closed() const {
        throw PoolClosedError("pool '" + options_.name + "' is closed");
    }

    // Connects (outside the lock). Non-scopeflow exceptions become TransientError.
    std::unique_ptr<Slot> open_slot() {
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
            auto slot = std::make_unique<Slot>(Slot{.conn = hooks_.connect(),
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

    // Where a failure to close a connection is reported: the lease owner's monitor for one that
    // came back from a lease, the pool's otherwise.
    struct ReportTo {
        ResourceMonitor* monitor;
        const ScopeRef* owner;  // null or empty: options.owner, else "pool <name>"
    };
    ReportTo pool_reports() const noexcept { return {options_.monitor, nullptr}; }

    // Closes a connection outside the lock; the slot stays reserved (the caller frees or reuses).
    // Out of line, like discard_and_free: kept off the return path's code.
    [[gnu::noinline]] void discard(std::unique_ptr<Slot> slot,
                                   bool broken,
                                   ReportTo report_to) noexcept {
        std::exception_ptr errors[2];
        if (options_.faults != nullptr) {
            try {
                options_.faults->hit(FaultPhase::release, close_point_);
            } catch (...) {
                errors[0] = std::current_exception();
            }
        }
        try {
            if (hooks_.close) {
                hooks_.close(slot->conn);
            } else {
                detail::close_if_closable(slot->conn);
            }
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
    [[gnu::noinline]] void discard_and_free(std::unique_ptr<Slot> slot,
                                            bool broken,
                                            ReportTo report_to) noexcept {
        discard(std::move(slot), broken, report_to);
        std::lock_guard lock(mu_);
        free_slot_locked();
        returned_cv_.notify_all();
    }
    void discard_and_free(std::unique_ptr<Slot> slot, bool broken) noexcept {
        discard_and_free(std::move(slot), broken, pool_reports());
    }

    // Called by Lease::release(). Healthy connections go to the oldest waiter or the idle set;
    // broken or expired ones (or all, once closed) are closed outside the lock.
    void give_back(std::unique_ptr<Slot> slot, bool broken) noexcept {
        const auto now = detail::coarse_steady_now();
        ScopeRef owner;  // released after the lock: it may hold the owner's last reference
        ResourceMonitor* monitor = nullptr;
        if (!broken && hooks_.broken) {
            try {
                broken = hooks_.broken(slot->conn);
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

    void publish(std::unique_ptr<Slot> slot) {
        std::lock_guard lock(mu_);
        publish_locked(std::move(slot));
    }

    void publish_locked(std::unique_ptr<Slot> slot) {
        if (waiters_.empty()) [[likely]] {
            idle_.push_back(std::move(slot));
        } else {
            hand_to_oldest_waiter_locked(std::move(slot));
        }
    }

    // Kept out of line: the uncontended return path only pushes to idle_.
    void hand_to_oldest_waiter_locked(std::unique_ptr<Slot> slot) {
        Waiter* w = waiters_.front();
        waiters_.pop_front();
        w->handed = std::move(slot);
        ++connecting_;       // the waiter's until it lends it
        w->cv.notify_one();  // under the lock: the waiter cannot vanish before this
    }

    // A slot's connection is gone: the slot goes to the oldest waiter (which connects) or away.
    void free_slot_locked() {
        if (!waiters_.empty() && !closed_) {
            Waiter* w = waiters_.front();
            waiters_.pop_front();
            w->granted = true;
            ++connecting_;  // the waiter's until it lends a connection or gives the slot up
            w->cv.notify_one();
        } else {
            --total_;
        }
    }

    void housekeep(std::stop_token st) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        while (!cv.wait_for(lock, st, options_.housekeeping_interval, [] { return false; })) {
            if (st.stop_requested()) {
                return;
            }
            maintain();
        }
    }

    const PoolOptions options_;
    const PoolHooks<T> hooks_;
    const std::string lease_label_;    // "lease <name>": the ledger entry of each lease
    const std::string connect_point_;  // fault points: "pool.<name>.connect", ...
    const std::string validate_point_;
    const std::string close_point_;
    Histogram acquire_time_;

    mutable std::mutex mu_;
    std::condition_variable returned_cv_;       // a lease came back or a connect ended
    std::condition_variable_any connected_cv_;  // a connect thread finished, or close()
    std::vector<std::unique_ptr<Slot>> idle_;   // guarded by mu_; most recent last (roughly)
    std::deque<Waiter*> waiters_;               // guarded by mu_; oldest first
    Slot* borrowed_head_ = nullptr;             // guarded by mu_; leased slots, newest first
    std::size_t borrowed_ = 0;                  // guarded by mu_; leases out
    std::size_t total_ = 0;                     // guarded by mu_; slots in use
    // guarded by mu_; slots reserved for an acquire and not yet lent (validating, connecting,
    // handed to a waiter not yet awake, or a connect whose caller gave up): close() waits for them
    std::size_t connecting_ = 0;
    std::size_t connect_waiters_ = 0;  // guarded by mu_; acquires waiting for their connect
    std::size_t connect_threads_ = 0;  // guarded by mu_; connect threads running (~Pool waits)
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

template <typename T>
std::shared_ptr<Pool<T>> make_pool(PoolOptions options, PoolHooks<T> hooks) {
    return Pool<T>::create(std::move(options), std::move(hooks));
}

}  // namespace scopeflow
