// PoolBase: the untyped half of Pool<T> (pool.h), everything of a pool but its connection type.
//
// Pool<T> is a thin typed layer over it: the hooks are erased into ErasedPoolHooks once, at
// create(), and a lease caches its connection's typed pointer, so the machinery (slots, waiters,
// connect threads, validation, eviction, close) is compiled once in src/pool/pool_core.cc
// instead of in every user of every connection type. Use it through Pool<T>; a PoolBase
// reference is enough to maintain, close or read the stats of a pool of any type.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <source_location>
#include <string>

#include <scopeflow/core/scope.h>
#include <scopeflow/core/ticket.h>
#include <scopeflow/pool/pool_options.h>

namespace scopeflow {

template <typename T>
class PoolLease;

namespace detail {

struct PoolSlot;  // one open connection and, while leased, its borrower (src/pool/pool_core.cc)

// PoolHooks<T> with T erased, for the untyped machinery. `hooks` owns the PoolHooks<T>.
struct ErasedPoolHooks {
    std::shared_ptr<void> hooks;
    void* (*connect)(void* hooks);                  // a new T, on the heap
    bool (*validate)(void* hooks, void* conn);      // null: no validate hook
    void (*close)(void* hooks, void* conn);         // the close hook, else T's close() if any
    bool (*broken)(void* hooks, const void* conn);  // null: no broken hook
    void (*destroy)(void* conn) noexcept;           // deletes the T
};

// A connection lent to a scope: its slot, the connection in it and the owner's ledger entry.
struct PoolLoan {
    PoolSlot* slot = nullptr;
    void* conn = nullptr;
    Ticket ticket;
};

}  // namespace detail

// Made only by Pool<T>::create.
class PoolBase : public std::enable_shared_from_this<PoolBase> {
public:
    PoolBase(const PoolBase&) = delete;
    PoolBase& operator=(const PoolBase&) = delete;

    // Housekeeping: closes idle connections past max_lifetime or idle_timeout (keeping
    // min_idle), reports leases held past leak_threshold, tops the idle set up to min_idle.
    // Connect failures while topping up are counted, not thrown.
    void maintain();
    // Stops lending (acquire throws PoolClosedError, waiters wake with it), closes idle
    // connections, waits up to `deadline` for leases to come back (closing each as it returns)
    // and names those still out. Idempotent.
    PoolCloseReport close(std::chrono::milliseconds deadline);
    [[nodiscard]] PoolStats stats() const;
    [[nodiscard]] const PoolOptions& options() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept;

protected:
    PoolBase(PoolOptions options, detail::ErasedPoolHooks hooks);
    // Closes without waiting for leases (none can be out: leases keep the pool alive), then
    // waits for connects still running on their own threads. Never throws.
    ~PoolBase();

    // Lends a connection to `owner`, waiting up to `timeout` (default: acquire_timeout).
    detail::PoolLoan lend(Scope& owner, const std::source_location& site);
    detail::PoolLoan lend(Scope& owner,
                          std::chrono::milliseconds timeout,
                          const std::source_location& site);

private:
    template <typename>
    friend class PoolLease;
    // Takes a lent connection back: pooled, or closed if broken, expired or the pool closed.
    void give_back(detail::PoolSlot* slot, bool broken) noexcept;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace scopeflow
