// Pool<T>: a bounded pool of connections of any type, leased to scopes (HikariCP's model).
//
// Connectors plug in through PoolHooks<T>; each has its own `<ns>::make_pool(...)` that sets
// them (pg::make_pool, redis::make_pool, sqlite::make_pool, http::make_pool).
//
//   auto pool = scopeflow::make_pool<PgConn>(
//       {.name = "orders-db", .max_size = 8},
//       {.connect = [&] { return PgConn::open(dsn); },
//        .validate = [](PgConn& c) { return c.ping(); },
//        .broken = [](const PgConn& c) { return c.broken(); }});
//   pool->with(worker_scope, [](PgConn& c) { c.exec("..."); });  // the common case
//   {
//       ScopedLease<PgConn> lease(*pool, worker_scope);  // the same, spelled out
//       lease->exec("...");
//   }                                                    // returned here
//   Pool<PgConn>::Lease lease = pool->acquire(worker_scope);  // movable: may leave this frame
//   PoolCloseReport r = pool->close(5s);                 // waits for leases, names those out
//
// Two lease types, chosen on purpose (as redis-plus-plus chooses between a connection scoped to
// a block and one you own):
// - ScopedLease (and with()) is the default: it cannot be moved or copied, so the connection is
//   back in the pool when the block ends and cannot be stored, returned or handed to a thread.
// - Lease is movable and keeps the pool alive: use it when the connection must leave the frame
//   (kept by an object, passed to another thread, released early with release()).
// Either way the lease carries a ledger Ticket from its owner scope, taken when the connection
// is lent (never while merely waiting): a lease still out when that scope ends is reported as
// a leak, one returned after that as a late release.
//
// Broken connections are detected in one place, the broken hook, checked on every return: a
// connection it calls broken is closed and replaced, never lent again. mark_broken() is for a
// caller that knows more than the connection does.
//
// Behaviour (PoolBase in pool_base.h is the untyped half; the machinery is in
// src/pool/pool_core.cc):
// - connect, validate and close never run under the pool's mutex.
// - Waiters are served strictly in arrival order: a returned connection (or a freed slot) goes
//   to the oldest waiter, never to a newcomer.
// - acquire_timeout bounds the whole acquire, connecting included: a connect runs on a thread
//   of its own while the caller waits with its deadline and its owner's stop token. A connect
//   that finishes after its caller gave up serves the next waiter or becomes idle; the pool's
//   destruction waits for such connects, so hooks may refer to anything that outlives the pool.
//   validate() runs on the caller's thread and should be cheap or bounded by the connector.
// - acquire() throws TransientError on timeout (naming the pool and its counts),
//   CancelledError when the owner scope is stopped, PoolClosedError once close() has begun. A
//   connect() that throws a scopeflow::Error propagates unchanged; anything else becomes a
//   TransientError. Either way the reserved slot is freed.
// - Failures to close are reported to the lease owner's monitor, else to options.monitor; leaks
//   past leak_threshold to the owner's monitor. Fault points: "pool.<name>.connect" (acquire),
//   ".validate" (use), ".close" (release).
// - maintain() (or housekeeping_interval) closes connections past max_lifetime (with jitter) or
//   idle_timeout (down to min_idle), tops up to min_idle and reports leases past leak_threshold.
//
// Thread safety: every Pool member may be called concurrently. A lease is for one thread at a
// time; a Lease may be destroyed on any thread. Hooks are called concurrently from the threads
// that acquire, return and maintain, and from the pool's connect threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <utility>

#include <scopeflow/core/detail/resource_ops.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/ticket.h>
#include <scopeflow/pool/pool_base.h>
#include <scopeflow/pool/pool_options.h>

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
class Pool;

// A leased connection that may leave the frame that acquired it; keeps its pool alive.
template <typename T>
class [[nodiscard]] PoolLease {
public:
    PoolLease() noexcept = default;
    PoolLease(PoolLease&& other) noexcept
        : pool_(std::move(other.pool_)),
          slot_(std::exchange(other.slot_, nullptr)),
          conn_(std::exchange(other.conn_, nullptr)),
          ticket_(std::move(other.ticket_)),
          broken_(other.broken_) {}
    PoolLease& operator=(PoolLease&& other) noexcept {
        if (this != &other) {
            release();
            pool_ = std::move(other.pool_);
            slot_ = std::exchange(other.slot_, nullptr);
            conn_ = std::exchange(other.conn_, nullptr);
            ticket_ = std::move(other.ticket_);
            broken_ = other.broken_;
        }
        return *this;
    }
    ~PoolLease() { release(); }

    [[nodiscard]] T& get() const noexcept { return *conn_; }
    [[nodiscard]] T& operator*() const noexcept { return *conn_; }
    [[nodiscard]] T* operator->() const noexcept { return conn_; }
    explicit operator bool() const noexcept { return slot_ != nullptr; }

    // The connection is unusable: on return it is closed and its slot freed, never reused.
    void mark_broken() noexcept { broken_ = true; }
    // Returns the connection now (the destructor does it otherwise). Idempotent.
    void release() noexcept {
        if (slot_ != nullptr) {
            ticket_.release();
            pool_->give_back(std::exchange(slot_, nullptr), broken_);
            conn_ = nullptr;
        }
        pool_.reset();
    }

private:
    friend class Pool<T>;
    PoolLease(std::shared_ptr<PoolBase> pool, detail::PoolLoan loan) noexcept
        : pool_(std::move(pool)),
          slot_(loan.slot),
          conn_(static_cast<T*>(loan.conn)),
          ticket_(std::move(loan.ticket)) {}

    std::shared_ptr<PoolBase> pool_;
    detail::PoolSlot* slot_ = nullptr;
    T* conn_ = nullptr;
    Ticket ticket_;
    bool broken_ = false;
};

// A leased connection bound to the block that declares it: neither movable nor copyable.
template <typename T>
class [[nodiscard]] ScopedLease {
public:
    ScopedLease(Pool<T>& pool,
                Scope& owner,
                std::source_location site = std::source_location::current())
        : lease_(pool.acquire(owner, site)) {}
    ScopedLease(const ScopedLease&) = delete;
    ScopedLease& operator=(const ScopedLease&) = delete;

    [[nodiscard]] T& get() const noexcept { return *lease_; }
    [[nodiscard]] T& operator*() const noexcept { return *lease_; }
    [[nodiscard]] T* operator->() const noexcept { return lease_.operator->(); }
    void mark_broken() noexcept { lease_.mark_broken(); }

private:
    PoolLease<T> lease_;
};

template <typename T>
class Pool final : public PoolBase {
    struct PrivateTag {
        explicit PrivateTag() = default;
    };

public:
    using Lease = PoolLease<T>;
    using Scoped = ScopedLease<T>;

    // Validates options (ConfigError "pool.<name>.<field>"); connects nothing until acquire()
    // or maintain() (which tops up to min_idle).
    static std::shared_ptr<Pool> create(PoolOptions options, PoolHooks<T> hooks) {
        validate_pool_options(options);
        if (!hooks.connect) {
            throw ConfigError("pool." + options.name + ".connect", "a connect hook is required");
        }
        return std::make_shared<Pool>(PrivateTag{}, std::move(options), erase(std::move(hooks)));
    }
    Pool(PrivateTag, PoolOptions options, detail::ErasedPoolHooks hooks)
        : PoolBase(std::move(options), std::move(hooks)) {}

    // Waits up to acquire_timeout (or `timeout`), first come first served. The fast path (an
    // idle connection, nobody waiting, no validation due) takes the lock once.
    Lease acquire(Scope& owner, std::source_location site = std::source_location::current()) {
        return Lease(shared_from_this(), lend(owner, site));
    }
    Lease acquire(Scope& owner,
                  std::chrono::milliseconds timeout,
                  std::source_location site = std::source_location::current()) {
        return Lease(shared_from_this(), lend(owner, timeout, site));
    }

    // Runs fn(connection) on a connection scoped to this call and returns what fn returns.
    template <typename F>
    decltype(auto) with(Scope& owner,
                        F&& fn,
                        std::source_location site = std::source_location::current()) {
        Scoped lease(*this, owner, site);
        return std::invoke(std::forward<F>(fn), *lease);
    }

private:
    static detail::ErasedPoolHooks erase(PoolHooks<T> hooks) {
        using H = PoolHooks<T>;
        const bool validates = static_cast<bool>(hooks.validate);
        const bool checks_broken = static_cast<bool>(hooks.broken);
        detail::ErasedPoolHooks erased{
            .hooks = std::make_shared<H>(std::move(hooks)),
            .connect = [](void* h) -> void* { return new T(static_cast<H*>(h)->connect()); },
            .validate = nullptr,
            .close =
                [](void* h, void* c) {
                    auto& typed = *static_cast<H*>(h);
                    if (typed.close) {
                        typed.close(*static_cast<T*>(c));
                    } else {
                        detail::close_if_closable(*static_cast<T*>(c));
                    }
                },
            .broken = nullptr,
            .destroy = [](void* c) noexcept { delete static_cast<T*>(c); }};
        if (validates) {
            erased.validate = [](void* h, void* c) {
                return static_cast<H*>(h)->validate(*static_cast<T*>(c));
            };
        }
        if (checks_broken) {
            erased.broken = [](void* h, const void* c) {
                return static_cast<H*>(h)->broken(*static_cast<const T*>(c));
            };
        }
        return erased;
    }
};

template <typename T>
std::shared_ptr<Pool<T>> make_pool(PoolOptions options, PoolHooks<T> hooks) {
    return Pool<T>::create(std::move(options), std::move(hooks));
}

}  // namespace scopeflow
