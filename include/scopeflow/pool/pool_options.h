// Pool options, statistics and errors of scopeflow::Pool<T> (pool.h).
//
//   auto pool = scopeflow::make_pool<PgConn>(
//       {.name = "orders-db", .max_size = 16, .acquire_timeout = 2s, .leak_threshold = 30s},
//       {.connect = [] { return PgConn::open(dsn); }});
//   scopeflow::PoolStats s = pool->stats();  // active, idle, pending, created, ..., acquire_time
//
// validate_pool_options() throws ConfigError naming the field as "pool.<name>.<field>".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/core/histogram.h>

namespace scopeflow {

class FaultInjector;
class ResourceMonitor;

// Used with designated initializers: PoolOptions{.name = "orders-db", .max_size = 8}.
struct PoolOptions {
    std::string name{};        // shown in errors, stats, leak reports and ledger entries
    std::size_t max_size = 8;  // connections open at most (idle + leased + being connected)
    std::size_t min_idle = 0;  // maintain() tops the idle set up to this (<= max_size)
    std::chrono::milliseconds acquire_timeout{2000};  // acquire(owner) waits at most this long
    std::chrono::milliseconds idle_timeout{
        600'000};  // idle longer: closed (down to min_idle); 0: never
    std::chrono::milliseconds max_lifetime{
        1'800'000};  // older: closed when returned or idle; 0: never
    // Each connection's lifetime is shortened by a random 0..jitter fraction (0 <= jitter < 1),
    // so connections opened together do not all expire together.
    double lifetime_jitter = 0.1;
    std::chrono::milliseconds validate_if_idle_for{
        500};                                     // validate on borrow if idle longer; 0: always
    std::chrono::milliseconds leak_threshold{0};  // a lease held longer is reported once; 0: off
    std::chrono::milliseconds housekeeping_interval{0};  // background maintain() period; 0: none
    // Lend a thread the idle connection it returned last, when there is one (HikariCP's
    // ConcurrentBag does the same): a client thread stays paired with one server backend.
    bool thread_affinity = true;
    // Where the pool reports what no lease owner can be told about (a connection that fails to
    // close when evicted or at close()); null: ResourceMonitor::global(). Must outlive the pool.
    ResourceMonitor* monitor = nullptr;
    std::string owner{};  // the scope path named in those reports; empty: "pool <name>"
    // Fault injection at "pool.<name>.connect" (acquire), ".validate" (use) and ".close"
    // (release); null: none. Must outlive the pool.
    FaultInjector* faults = nullptr;
};

// Throws ConfigError("pool.<name>.<field>", ...) for the first invalid field.
void validate_pool_options(const PoolOptions& options);

// A snapshot of a pool's state and counters since it was created.
struct PoolStats {
    std::size_t active = 0;              // leases out
    std::size_t idle = 0;                // open connections waiting to be leased
    std::size_t pending = 0;             // acquire() calls waiting
    std::size_t total = 0;               // slots in use: active + idle + being connected or closed
    std::uint64_t created = 0;           // connections opened
    std::uint64_t destroyed = 0;         // connections closed
    std::uint64_t timeouts = 0;          // acquire() calls that timed out
    std::uint64_t leaks = 0;             // leases reported past leak_threshold
    std::uint64_t broken = 0;            // discarded: mark_broken() or failed validation
    std::uint64_t connect_failures = 0;  // connect() calls that threw
    Histogram::Snapshot acquire_time;    // wait of each successful acquire, connect included
};

// A lease still out when Pool::close() gave up waiting.
struct OutstandingLease {
    std::string owner_path;  // the scope passed to acquire()
    std::string site;        // "file.cc:42" where acquire() was called
    std::chrono::milliseconds held{};
};

// What Pool::close() could not finish: leases not returned by its deadline. They are still
// closed (not pooled) when they come back.
struct PoolCloseReport {
    std::string pool;
    std::vector<OutstandingLease> outstanding;

    [[nodiscard]] bool clean() const noexcept { return outstanding.empty(); }
    // "pool 'orders-db': 1 lease(s) not returned: svc/worker-1 (a.cc:12, held 250ms)"
    [[nodiscard]] std::string describe() const;
};

// acquire() on a pool that is closing or closed.
class PoolClosedError : public ScopeClosedError {
public:
    using ScopeClosedError::ScopeClosedError;
};

namespace detail {

// "pool 'orders-db': no connection within 2000ms (8 active, 0 idle, 3 waiting, max 8)"
[[nodiscard]] std::string pool_timeout_message(const std::string& pool,
                                               std::chrono::milliseconds timeout,
                                               std::size_t active,
                                               std::size_t idle,
                                               std::size_t waiting,
                                               std::size_t max_size);

// Reports a connection of `options`' pool that failed to close: to `monitor` (null:
// options.monitor, then the global one), naming `owner_path` (empty: options.owner, then
// "pool <name>"). Never throws.
void report_pool_close_failure(ResourceMonitor* monitor,
                               const std::string& owner_path,
                               const PoolOptions& options,
                               const std::exception_ptr& error) noexcept;

// A random factor in [1 - jitter, 1] for a connection's lifetime (thread-local engine).
[[nodiscard]] double pool_lifetime_factor(double jitter);

}  // namespace detail
}  // namespace scopeflow
