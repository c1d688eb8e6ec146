// Pool<T> with a fake connection type: reuse, bounds under contention, FIFO waiters, timeouts,
// cancellation, broken/invalid/expired/idle connections, leak reports, close, and I/O outside
// the pool's lock.
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/pool/pool.h>

#include "support/eventually.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the fake connector did; shared by every FakeConn of one test.
struct Counters {
    std::atomic<int> connects{0};
    std::atomic<int> closes{0};
    std::atomic<int> live{0};
    std::atomic<int> max_live{0};
    std::atomic<bool> fail_validation{false};
    std::atomic<int> fail_connects{0};    // the next N connects throw
    std::atomic<int> slow_connect_ms{0};  // each connect sleeps this long
};

struct FakeConn {
    int id = 0;
};

PoolHooks<FakeConn> fake_hooks(Counters& c) {
    return {.connect =
                [&c] {
                    if (c.slow_connect_ms.load() > 0) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(c.slow_connect_ms));
                    }
                    if (c.fail_connects.load() > 0) {
                        c.fail_connects.fetch_sub(1);
                        throw std::runtime_error("connection refused");
                    }
                    const int live = c.live.fetch_add(1) + 1;
                    int seen = c.max_live.load();
                    while (live > seen && !c.max_live.compare_exchange_weak(seen, live)) {
                    }
                    return FakeConn{c.connects.fetch_add(1) + 1};
                },
            .validate = [&c](FakeConn&) { return !c.fail_validation.load(); },
            .close =
                [&c](FakeConn&) {
                    c.closes.fetch_add(1);
                    c.live.fetch_sub(1);
                }};
}

// Threads that queue on `pool` one after the other (each waits until the previous one is
// pending) and record the order in which they were served.
class Arrivals {
public:
    Arrivals(Pool<FakeConn>& pool, Scope& owner, const std::vector<std::string>& names) {
        for (const auto& name : names) {
            const std::size_t before = pool.stats().pending;
            threads_.emplace_back([this, &pool, &owner, name] {
                auto lease = pool.acquire(owner);
                std::lock_guard lock(mu_);
                order_.push_back(name);
            });
            while (pool.stats().pending == before) {  // queued before the next one starts
                std::this_thread::sleep_for(1ms);
            }
        }
    }
    // Waits for every thread to be served.
    std::vector<std::string> order() {
        threads_.clear();
        return order_;
    }

private:
    std::mutex mu_;
    std::vector<std::string> order_;  // guarded by mu_
    std::vector<std::jthread> threads_;
};

class PoolTest : public ::testing::Test {
protected:
    std::shared_ptr<Pool<FakeConn>> make(PoolOptions o) {
        if (o.name.empty()) {
            o.name = "orders-db";
        }
        return make_pool<FakeConn>(std::move(o), fake_hooks(c_));
    }

    Counters c_;
    Ledger ledger_;
    ResourceMonitor monitor_{ledger_, {.log_to_stderr = false}};
    Scope root_{"svc", {.monitor = &monitor_, .track = {}}};
};

TEST_F(PoolTest, ReusesOneConnectionForSequentialLeases) {
    auto pool = make({.max_size = 4});
    for (int i = 0; i < 100; ++i) {
        auto lease = pool->acquire(root_);
        EXPECT_EQ(lease->id, 1);
    }
    EXPECT_EQ(c_.connects.load(), 1);
    const PoolStats s = pool->stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.active, 0u);
    EXPECT_EQ(s.idle, 1u);
    EXPECT_EQ(s.acquire_time.count, 100u);
}

TEST_F(PoolTest, RejectsInvalidOptionsNamingTheField) {
    try {
        (void)make({.max_size = 2, .min_idle = 3});
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "pool.orders-db.min_idle");
    }
    EXPECT_THROW((void)make({.max_size = 0}), ConfigError);
    EXPECT_THROW((void)make({.lifetime_jitter = 1.5}), ConfigError);
}

TEST_F(PoolTest, NeverExceedsMaxSizeUnderContention) {
    constexpr std::size_t kMax = 4;
    auto pool = make({.max_size = kMax, .acquire_timeout = 30s, .validate_if_idle_for = 0ms});
    std::atomic<int> in_use{0};
    std::atomic<int> max_in_use{0};
    std::vector<Scope> workers;
    for (int t = 0; t < 8; ++t) {
        workers.push_back(root_.child("worker-" + std::to_string(t)));
    }
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                auto lease = pool->acquire(workers[static_cast<std::size_t>(t)]);
                const int now = in_use.fetch_add(1) + 1;
                int seen = max_in_use.load();
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                if (i % 97 == 0) {
                    lease.mark_broken();
                }
                in_use.fetch_sub(1);
            }
        });
    }
    threads.clear();
    const PoolStats s = pool->stats();
    EXPECT_LE(max_in_use.load(), static_cast<int>(kMax));
    EXPECT_LE(c_.max_live.load(), static_cast<int>(kMax));
    EXPECT_LE(s.created, kMax + s.broken);
    EXPECT_GT(s.broken, 0u);
    EXPECT_EQ(s.active, 0u);
    EXPECT_EQ(s.acquire_time.count, 16000u);
    EXPECT_EQ(s.created - s.destroyed, s.idle);
}

TEST_F(PoolTest, ExhaustionTimesOutNamingThePool) {
    auto pool = make({.max_size = 1});
    auto held = pool->acquire(root_);
    const auto start = Clock::now();
    try {
        auto lease = pool->acquire(root_, 100ms);
        FAIL() << "expected TransientError";
    } catch (const TransientError& e) {
        const auto waited = Clock::now() - start;
        EXPECT_GE(waited, 100ms);
        EXPECT_LT(waited, 600ms);
        EXPECT_NE(std::string(e.what()).find("pool 'orders-db': no connection within 100ms"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("1 active, 0 idle, 0 waiting"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(pool->stats().timeouts, 1u);
    EXPECT_EQ(pool->stats().pending, 0u);
}

TEST_F(PoolTest, WaitersAreServedInArrivalOrder) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    Arrivals arrivals(*pool, root_, {"a", "b", "c"});
    held.release();
    EXPECT_EQ(arrivals.order(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(c_.connects.load(), 1);
}

TEST_F(PoolTest, AFreedSlotGoesToTheOldestWaiter) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    Arrivals arrivals(*pool, root_, {"a", "b", "c"});
    held.mark_broken();  // closed: its slot, not a connection, goes to "a", which connects
    held.release();
    EXPECT_EQ(arrivals.order(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(c_.connects.load(), 2);
}

TEST_F(PoolTest, AWaiterThatTimesOutLeavesTheQueueAndTheNextIsServed) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    std::jthread quick([&] { EXPECT_THROW((void)pool->acquire(root_, 300ms), TransientError); });
    while (pool->stats().pending == 0) {
        std::this_thread::sleep_for(1ms);
    }
    std::atomic<int> served{0};
    std::jthread patient([&] {
        auto lease = pool->acquire(root_);
        served = lease->id;
    });
    while (pool->stats().pending < 2 && pool->stats().timeouts == 0) {
        std::this_thread::sleep_for(1ms);
    }
    quick.join();  // the head of the queue timed out and left it; "patient" still waits
    EXPECT_EQ(pool->stats().timeouts, 1u);
    EXPECT_EQ(pool->stats().pending, 1u);
    held.release();
    patient.join();
    EXPECT_EQ(served.load(), 1);
    EXPECT_EQ(pool->stats().pending, 0u);
}

TEST_F(PoolTest, AScopedLeaseIsBoundToItsBlock) {
    static_assert(!std::is_move_constructible_v<ScopedLease<FakeConn>>);
    static_assert(!std::is_copy_constructible_v<ScopedLease<FakeConn>>);
    static_assert(!std::is_move_assignable_v<ScopedLease<FakeConn>>);
    static_assert(std::is_move_constructible_v<Pool<FakeConn>::Lease>);
    auto pool = make({.max_size = 2});
    {
        Scope worker = root_.child("worker-1");
        Pool<FakeConn>::Scoped lease(*pool, worker);
        EXPECT_EQ(lease->id, 1);
        EXPECT_EQ((*lease).id, 1);
        EXPECT_EQ(pool->stats().active, 1u);
    }  // returned before its owner closed: no leak
    EXPECT_EQ(pool->stats().active, 0u);
    EXPECT_EQ(pool->stats().idle, 1u);
    EXPECT_EQ(monitor_.count(ReportKind::leak), 0u);
    {
        ScopedLease<FakeConn> lease(*pool, root_);
        lease.mark_broken();
    }
    EXPECT_EQ(pool->stats().broken, 1u);
    EXPECT_EQ(pool->stats().idle, 0u);
}

TEST_F(PoolTest, WithReturnsWhatFnReturnsAndTheConnectionOnEveryPath) {
    auto pool = make({.max_size = 1});
    EXPECT_EQ(pool->with(root_, [](FakeConn& c) { return c.id * 10; }), 10);
    EXPECT_THROW(pool->with(root_, [](FakeConn&) -> int { throw std::runtime_error("boom"); }),
                 std::runtime_error);
    EXPECT_EQ(pool->stats().active, 0u);
    EXPECT_EQ(pool->stats().idle, 1u);  // a throw is not a broken connection
    EXPECT_EQ(pool->stats().broken, 0u);
    int& seen = pool->with(root_, [&](FakeConn& c) -> int& { return c.id; });  // by reference
    EXPECT_EQ(seen, 1);
}

TEST_F(PoolTest, WithDiscardsAConnectionTheBrokenHookFlags) {
    auto hooks = fake_hooks(c_);
    hooks.broken = [](const FakeConn& conn) { return conn.id < 0; };
    auto pool = make_pool<FakeConn>({.name = "orders-db", .max_size = 1}, std::move(hooks));
    EXPECT_THROW(pool->with(root_,
                            [](FakeConn& c) {
                                c.id = -1;  // broke while leased, then failed
                                throw TransientError("connection lost");
                            }),
                 TransientError);
    EXPECT_EQ(pool->stats().broken, 1u);
    EXPECT_EQ(c_.closes.load(), 1);
    EXPECT_EQ(pool->with(root_, [](FakeConn& c) { return c.id; }), 2);
}

TEST_F(PoolTest, BrokenLeaseIsReplacedNotReused) {
    auto pool = make({.max_size = 1});
    {
        auto lease = pool->acquire(root_);
        EXPECT_EQ(lease->id, 1);
        lease.mark_broken();
    }
    EXPECT_EQ(c_.closes.load(), 1);
    auto lease = pool->acquire(root_);
    EXPECT_EQ(lease->id, 2);
    EXPECT_EQ(pool->stats().broken, 1u);
    EXPECT_EQ(pool->stats().total, 1u);
}

TEST_F(PoolTest, BrokenHookDiscardsAConnectionTheCallerForgotToMark) {
    auto hooks = fake_hooks(c_);
    hooks.broken = [](const FakeConn& conn) { return conn.id == 1; };  // the first one broke
    auto pool = make_pool<FakeConn>({.name = "orders-db", .max_size = 2}, std::move(hooks));
    { auto lease = pool->acquire(root_); }  // returned without mark_broken()
    EXPECT_EQ(pool->stats().broken, 1U);
    EXPECT_EQ(c_.closes.load(), 1);
    auto next = pool->acquire(root_);
    EXPECT_EQ(next->id, 2);  // a new connection, not the broken one
}

TEST_F(PoolTest, ThreadAffinityLendsAThreadTheConnectionItReturnedLast) {
    for (const bool affinity : {true, false}) {
        auto pool = make(
            {.name = affinity ? "with" : "without", .max_size = 2, .thread_affinity = affinity});
        auto a = pool->acquire(root_);
        auto b = pool->acquire(root_);
        const int a_id = a->id;
        const int b_id = b->id;
        a.release();  // returned by this thread
        std::jthread([moved = std::move(b)]() mutable { moved.release(); }).join();
        // b is the most recently returned, but a is the one this thread returned.
        auto again = pool->acquire(root_);
        EXPECT_EQ(again->id, affinity ? a_id : b_id) << (affinity ? "affinity" : "LIFO");
    }
}

TEST_F(PoolTest, FailedValidationOnBorrowDiscardsAndReconnects) {
    auto pool = make({.max_size = 1, .validate_if_idle_for = 0ms});
    { auto lease = pool->acquire(root_); }
    c_.fail_validation = true;
    auto lease = pool->acquire(root_);
    EXPECT_EQ(lease->id, 2);
    EXPECT_EQ(c_.connects.load(), 2);
    EXPECT_EQ(c_.closes.load(), 1);
    EXPECT_EQ(pool->stats().broken, 1u);
}

TEST_F(PoolTest, RecentlyUsedConnectionsSkipValidation) {
    auto pool = make({.max_size = 1, .validate_if_idle_for = 10s});
    { auto lease = pool->acquire(root_); }
    c_.fail_validation = true;
    auto lease = pool->acquire(root_);
    EXPECT_EQ(lease->id, 1);
}

TEST_F(PoolTest, MaxLifetimeRotatesConnections) {
    auto pool = make({.max_size = 2, .max_lifetime = 50ms, .lifetime_jitter = 0.0});
    { auto lease = pool->acquire(root_); }
    std::this_thread::sleep_for(80ms);
    pool->maintain();  // expired while idle
    EXPECT_EQ(c_.closes.load(), 1);
    EXPECT_EQ(pool->stats().idle, 0u);
    {
        auto lease = pool->acquire(root_);
        EXPECT_EQ(lease->id, 2);
        std::this_thread::sleep_for(80ms);
    }  // expired while leased: closed on return
    EXPECT_EQ(c_.closes.load(), 2);
    EXPECT_EQ(pool->stats().total, 0u);
}

TEST_F(PoolTest, IdleTimeoutEvictsDownToMinIdle) {
    auto pool = make({.max_size = 4, .min_idle = 2, .idle_timeout = 50ms, .max_lifetime = 0ms});
    pool->maintain();
    EXPECT_EQ(c_.connects.load(), 2);
    {
        std::vector<Pool<FakeConn>::Lease> leases;
        for (int i = 0; i < 4; ++i) {
            leases.push_back(pool->acquire(root_));
        }
    }
    EXPECT_EQ(pool->stats().idle, 4u);
    std::this_thread::sleep_for(80ms);
    pool->maintain();
    EXPECT_EQ(pool->stats().idle, 2u);
    EXPECT_EQ(c_.closes.load(), 2);
}

TEST_F(PoolTest, LeakThresholdIsReportedOnceWithOwnerAndSite) {
    auto pool = make({.max_size = 2, .leak_threshold = 30ms});
    Scope worker = root_.child("worker-1");
    const int line = __LINE__ + 1;
    auto lease = pool->acquire(worker);
    std::this_thread::sleep_for(60ms);
    pool->maintain();
    pool->maintain();
    EXPECT_EQ(monitor_.count(ReportKind::leak), 1u);
    EXPECT_EQ(pool->stats().leaks, 1u);
    const auto reports = monitor_.recent();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].scope_path, "svc/worker-1");
    EXPECT_EQ(reports[0].resource, "orders-db");
    EXPECT_NE(reports[0].site.find("pool_test.cc:" + std::to_string(line)), std::string::npos)
        << reports[0].site;
}

TEST_F(PoolTest, LeaseOutlivingItsOwnerIsReportedByTheScope) {
    auto pool = make({.max_size = 2});
    Pool<FakeConn>::Lease lease;
    {
        Scope worker = root_.child("worker-1");
        lease = pool->acquire(worker);
    }  // closes with the lease still out
    ASSERT_GE(monitor_.count(ReportKind::leak), 1u);
    const auto reports = monitor_.recent();
    EXPECT_EQ(reports[0].scope_path, "svc/worker-1");
    EXPECT_EQ(reports[0].resource, "lease orders-db");
    EXPECT_EQ(monitor_.count(ReportKind::late_release), 0u);
    lease.release();
    EXPECT_EQ(pool->stats().idle, 1u);
    EXPECT_EQ(monitor_.count(ReportKind::late_release), 1u);  // the orphan came back
}

TEST_F(PoolTest, CloseReportNamesAnOwnerThatNoLongerExists) {
    auto pool = make({.max_size = 1});
    Pool<FakeConn>::Lease lease;
    {
        Scope worker = root_.child("worker-7");
        lease = pool->acquire(worker);
    }  // the owner is gone; the lease keeps only its name alive
    const PoolCloseReport report = pool->close(10ms);
    ASSERT_EQ(report.outstanding.size(), 1u);
    EXPECT_EQ(report.outstanding[0].owner_path, "svc/worker-7");
    lease.release();
    EXPECT_EQ(pool->stats().total, 0u);
}

TEST_F(PoolTest, ScopeRefTellsThePathAfterTheScopeEnds) {
    ScopeRef ref;
    EXPECT_TRUE(ref.empty());
    EXPECT_EQ(ref.path(), "");
    {
        Scope s = root_.child("stage").child("worker-2");
        ref = s.ref();
    }
    EXPECT_EQ(ref.path(), "svc/stage/worker-2");
}

TEST_F(PoolTest, AcquireIsCancelledByTheOwnerScopesStop) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    Scope worker = root_.child("worker-1");
    std::atomic<bool> cancelled{false};
    Clock::duration waited{};
    std::jthread t([&] {
        const auto start = Clock::now();
        try {
            auto lease = pool->acquire(worker);
        } catch (const CancelledError&) {
            cancelled = true;
        }
        waited = Clock::now() - start;
    });
    while (pool->stats().pending == 0) {
        std::this_thread::sleep_for(1ms);
    }
    worker.request_stop();
    t.join();
    EXPECT_TRUE(cancelled.load());
    EXPECT_LT(waited, 1s);
    EXPECT_EQ(pool->stats().pending, 0u);
}

TEST_F(PoolTest, CloseWaitsForLeasesAndReportsTheOneNotReturned) {
    auto pool = make({.max_size = 3});
    Scope a = root_.child("a");
    Scope b = root_.child("b");
    auto returned = pool->acquire(a);
    auto kept = pool->acquire(b);
    { auto idle = pool->acquire(root_); }
    std::jthread t([&] {
        std::this_thread::sleep_for(50ms);
        returned.release();
    });
    const PoolCloseReport report = pool->close(300ms);
    ASSERT_EQ(report.outstanding.size(), 1u) << report.describe();
    EXPECT_EQ(report.outstanding[0].owner_path, "svc/b");
    EXPECT_NE(report.describe().find("svc/b"), std::string::npos);
    EXPECT_EQ(c_.closes.load(), 2);  // the idle one and the one returned during close
    EXPECT_THROW((void)pool->acquire(root_), PoolClosedError);
    kept.release();
    EXPECT_EQ(c_.closes.load(), 3);
    EXPECT_EQ(pool->stats().total, 0u);
}

TEST_F(PoolTest, CloseWakesWaitersWithPoolClosedError) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    std::atomic<bool> closed_error{false};
    std::jthread t([&] {
        try {
            auto lease = pool->acquire(root_);
        } catch (const PoolClosedError& e) {
            closed_error = std::string(e.what()).find("orders-db") != std::string::npos;
        }
    });
    while (pool->stats().pending == 0) {
        std::this_thread::sleep_for(1ms);
    }
    held.release();
    (void)pool->close(0ms);
    t.join();
    // The waiter was either handed the returned connection before close, or woken by close.
    EXPECT_EQ(pool->stats().pending, 0u);
}

TEST_F(PoolTest, ConnectRunsOutsideTheLock) {
    auto pool = make({.max_size = 2});
    auto first = pool->acquire(root_);
    c_.slow_connect_ms = 200;
    std::jthread t([&] { auto second = pool->acquire(root_); });
    std::this_thread::sleep_for(20ms);  // the second connect is now sleeping
    const auto start = Clock::now();
    const PoolStats s = pool->stats();
    first.release();
    EXPECT_LT(Clock::now() - start, 100ms);
    EXPECT_EQ(s.total, 2u);
}

TEST_F(PoolTest, FailedConnectPropagatesAndFreesTheSlot) {
    auto pool = make({.max_size = 1});
    c_.fail_connects = 1;
    try {
        auto lease = pool->acquire(root_);
        FAIL() << "expected TransientError";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos);
    }
    EXPECT_EQ(pool->stats().total, 0u);
    EXPECT_EQ(pool->stats().connect_failures, 1u);
    auto lease = pool->acquire(root_);
    EXPECT_EQ(lease->id, 1);
}

TEST_F(PoolTest, FailedConnectHandsTheSlotToTheNextWaiter) {
    auto pool = make({.max_size = 1, .acquire_timeout = 5s});
    auto held = pool->acquire(root_);
    std::atomic<int> got{0};
    std::jthread t([&] {
        auto lease = pool->acquire(root_);
        got = lease->id;
    });
    while (pool->stats().pending == 0) {
        std::this_thread::sleep_for(1ms);
    }
    held.mark_broken();
    held.release();  // the slot is freed: the waiter connects itself
    t.join();
    EXPECT_EQ(got.load(), 2);
}

TEST_F(PoolTest, BackgroundHousekeepingRuns) {
    auto pool = make({.max_size = 2, .min_idle = 1, .housekeeping_interval = 10ms});
    for (int i = 0; i < 200 && pool->stats().idle == 0; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(pool->stats().idle, 1u);
}

TEST_F(PoolTest, AcquireTimeoutIncludesASlowConnect) {
    auto pool = make({.max_size = 2});
    c_.slow_connect_ms = 800;
    const auto start = Clock::now();
    try {
        auto lease = pool->acquire(root_, 200ms);
        FAIL() << "expected TransientError";
    } catch (const TransientError& e) {
        const auto waited = Clock::now() - start;
        EXPECT_GE(waited, 200ms);
        EXPECT_LT(waited, 400ms);
        EXPECT_NE(std::string(e.what()).find("pool 'orders-db': no connection within 200ms"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(pool->stats().timeouts, 1u);
    // The connect finishes on its own thread and becomes an idle connection, not a leak.
    ASSERT_TRUE(testing::eventually([&] { return pool->stats().idle == 1; }, 5000ms));
    EXPECT_EQ(pool->stats().total, 1u);
    EXPECT_EQ(c_.live.load(), 1);
    c_.slow_connect_ms = 0;
    const auto reuse = Clock::now();
    auto lease = pool->acquire(root_, 200ms);
    EXPECT_LT(Clock::now() - reuse, 100ms);
    EXPECT_EQ(lease->id, 1);
    EXPECT_EQ(c_.connects.load(), 1);
    EXPECT_EQ(monitor_.count(ReportKind::leak), 0u);
}

TEST_F(PoolTest, AConnectFinishingAfterItsCallerGaveUpServesTheNextWaiter) {
    auto pool = make({.max_size = 1, .acquire_timeout = 5s});
    c_.slow_connect_ms = 300;
    EXPECT_THROW((void)pool->acquire(root_, 50ms), TransientError);
    // The slot is still reserved by the running connect: this waiter queues for it and gets it.
    const auto start = Clock::now();
    auto lease = pool->acquire(root_);
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_EQ(lease->id, 1);
    EXPECT_EQ(c_.connects.load(), 1);
}

TEST_F(PoolTest, AnAcquireStoppedWhileConnectingIsCancelled) {
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    c_.slow_connect_ms = 500;
    Scope worker = root_.child("worker-1");
    std::jthread stopper([&] {
        std::this_thread::sleep_for(50ms);
        worker.request_stop();
    });
    const auto start = Clock::now();
    EXPECT_THROW((void)pool->acquire(worker), CancelledError);
    EXPECT_LT(Clock::now() - start, 400ms);
    ASSERT_TRUE(testing::eventually([&] { return pool->stats().idle == 1; }, 5000ms));
    EXPECT_EQ(monitor_.count(ReportKind::leak), 0u);
}

TEST_F(PoolTest, WaitersOnAFullPoolAreNotLeaksWhenTheirOwnersClose) {
    constexpr int kWaiters = 8;
    auto pool = make({.max_size = 1, .acquire_timeout = 10s});
    auto held = pool->acquire(root_);
    std::vector<Scope> owners;
    for (int i = 0; i < kWaiters; ++i) {
        owners.push_back(root_.child("worker-" + std::to_string(i)));
    }
    std::atomic<int> stopped{0};
    std::atomic<int> other{0};
    std::vector<std::jthread> threads;
    for (int i = 0; i < kWaiters; ++i) {
        threads.emplace_back([&, i] {
            try {
                auto lease = pool->acquire(owners[static_cast<std::size_t>(i)]);
                other.fetch_add(1);
            } catch (const CancelledError&) {
                stopped.fetch_add(1);
            } catch (...) {
                other.fetch_add(1);
            }
        });
    }
    ASSERT_TRUE(testing::eventually([&] { return pool->stats().pending == kWaiters; }, 5000ms));
    for (auto& owner : owners) {  // shutdown: each worker's scope closes while it waits
        owner.close();
    }
    threads.clear();
    EXPECT_EQ(stopped.load(), kWaiters);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(monitor_.count(ReportKind::leak), 0u);
    EXPECT_EQ(pool->stats().pending, 0u);
    EXPECT_EQ(pool->stats().active, 1u);
}

TEST_F(PoolTest, AConnectUnderWayWhenCloseBeginsIsClosedNotLent) {
    auto pool = make({.max_size = 2, .acquire_timeout = 5s});
    c_.slow_connect_ms = 300;
    std::atomic<bool> closed_error{false};
    std::atomic<bool> leased{false};
    std::jthread t([&] {
        try {
            auto lease = pool->acquire(root_);
            leased = true;
        } catch (const PoolClosedError&) {
            closed_error = true;
        }
    });
    ASSERT_TRUE(
        testing::eventually([&] { return pool->stats().pending == 1; }, 5000ms));  // connecting
    const PoolCloseReport report = pool->close(2s);
    t.join();
    EXPECT_TRUE(closed_error.load());
    EXPECT_FALSE(leased.load());
    EXPECT_TRUE(report.clean()) << report.describe();
    // close() waited for the connect and closed what it opened.
    EXPECT_EQ(c_.connects.load(), 1);
    EXPECT_EQ(c_.closes.load(), 1);
    EXPECT_EQ(c_.live.load(), 0);
    EXPECT_EQ(pool->stats().total, 0u);
}

TEST_F(PoolTest, CloseFailuresAreReportedToThePoolsMonitorAndTheLeaseOwners) {
    Ledger other_ledger;
    ResourceMonitor pool_monitor{other_ledger, {.log_to_stderr = false}};
    auto hooks = fake_hooks(c_);
    hooks.close = [](FakeConn& conn) {
        throw std::runtime_error("close of connection " + std::to_string(conn.id) + " failed");
    };
    auto pool = make_pool<FakeConn>(
        {.name = "orders-db", .max_size = 2, .monitor = &pool_monitor, .owner = "svc/resources"},
        std::move(hooks));
    Scope worker = root_.child("worker-1");
    {
        auto lease = pool->acquire(worker);
        lease.mark_broken();  // closed on return: reported to the lease owner's monitor
    }
    ASSERT_EQ(monitor_.count(ReportKind::close_error), 1u);
    EXPECT_EQ(monitor_.recent().back().scope_path, "svc/worker-1");
    EXPECT_NE(monitor_.recent().back().message.find("close of connection 1 failed"),
              std::string::npos);
    { auto lease = pool->acquire(worker); }  // back to idle
    (void)pool->close(1s);                   // the idle one fails to close: the pool's monitor
    ASSERT_EQ(pool_monitor.count(ReportKind::close_error), 1u);
    const Report r = pool_monitor.recent().back();
    EXPECT_EQ(r.scope_path, "svc/resources");
    EXPECT_EQ(r.resource, "orders-db");
    EXPECT_EQ(r.resource_kind, ResourceKind::connection);
    EXPECT_EQ(monitor_.count(ReportKind::close_error), 1u);
    EXPECT_EQ(ResourceMonitor::global().count(ReportKind::close_error), 0u);
}

TEST_F(PoolTest, FaultPointsSimulateConnectValidateAndCloseFailures) {
    FaultInjector faults;
    faults.set_recording(true);
    Ledger pool_ledger;
    ResourceMonitor pool_monitor{pool_ledger, {.log_to_stderr = false}};
    auto pool = make(
        {.max_size = 1, .validate_if_idle_for = 0ms, .monitor = &pool_monitor, .faults = &faults});
    // connect: the first connect fails as a connector's would.
    faults.arm({.phase = FaultPhase::acquire, .point = "pool.orders-db.connect", .nth = 1});
    EXPECT_THROW((void)pool->acquire(root_), InjectedFault);
    EXPECT_EQ(pool->stats().connect_failures, 1u);
    EXPECT_EQ(pool->stats().total, 0u);
    { auto lease = pool->acquire(root_); }  // the 2nd connect succeeds
    // validate: the idle connection fails validation, is discarded and replaced.
    faults.arm({.phase = FaultPhase::use, .point = "pool.orders-db.validate", .nth = 1});
    {
        auto lease = pool->acquire(root_);
        EXPECT_EQ(lease->id, 2);
    }
    EXPECT_EQ(pool->stats().broken, 1u);
    // close: closing fails (reported), the connection is closed all the same.
    faults.arm({.phase = FaultPhase::release, .point = "pool.orders-db.close", .nth = 2});
    EXPECT_TRUE(pool->close(1s).clean());
    EXPECT_EQ(pool_monitor.count(ReportKind::close_error), 1u);
    EXPECT_NE(pool_monitor.recent().back().message.find("injected fault at release "
                                                        "'pool.orders-db.close' #2"),
              std::string::npos)
        << pool_monitor.recent().back().message;
    EXPECT_EQ(c_.live.load(), 0);
    EXPECT_EQ(faults.fired(), 3u);
    std::vector<std::string> points;
    for (const FaultHit& h : faults.trace()) {
        if (h.point.rfind("pool.", 0) == 0) {
            points.push_back(std::string(to_string(h.phase)) + " " + h.point);
        }
    }
    EXPECT_EQ(points, (std::vector<std::string>{
                          "acquire pool.orders-db.connect", "acquire pool.orders-db.connect",
                          "use pool.orders-db.validate", "release pool.orders-db.close",
                          "acquire pool.orders-db.connect", "release pool.orders-db.close"}));
}

TEST_F(PoolTest, AHangingConnectIsBoundedByTheAcquireTimeout) {
    FaultInjector faults;
    faults.arm({.phase = FaultPhase::acquire,
                .point = "pool.orders-db.connect",
                .nth = 1,
                .action = FaultAction::hang});
    auto pool = make({.max_size = 1, .faults = &faults});
    const auto start = Clock::now();
    EXPECT_THROW((void)pool->acquire(root_, 150ms), TransientError);
    EXPECT_LT(Clock::now() - start, 400ms);
    faults.release_hangs();  // the connect goes on and ends up idle
    ASSERT_TRUE(testing::eventually([&] { return pool->stats().idle == 1; }, 5000ms));
    EXPECT_TRUE(pool->close(1s).clean());
    EXPECT_EQ(c_.live.load(), 0);
}

}  // namespace
}  // namespace scopeflow
