// MemoryBudget, Semaphore and TrackedMutex: FIFO service, timeouts naming the budget and its
// holders, stop-token cancellation, hold-time metrics, leaks reported when a grant outlives its
// scope, and 8-thread stress (this binary also runs under TSan).
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/budget/budget_error.h>
#include <scopeflow/budget/memory_budget.h>
#include <scopeflow/budget/semaphore.h>
#include <scopeflow/budget/tracked_mutex.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "support/eventually.h"
#include "support/leak_check.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every grant released (the leak check).
class BudgetSyncTest : public testing::LeakCheckedTest {
protected:
    BudgetSyncTest()
        : LeakCheckedTest("svc") {}
};

// --- MemoryBudget ---------------------------------------------------------------------------

TEST_F(BudgetSyncTest, MemoryReservationGivesBytesBackOnDestruction) {
    MemoryBudget mem({.name = "batches", .capacity_bytes = 100});
    {
        MemoryReservation r = mem.acquire(root_, 60);
        EXPECT_EQ(r.bytes(), 60u);
        EXPECT_EQ(mem.stats().used, 60u);
        EXPECT_EQ(iso_.ledger.live(ResourceKind::buffer_bytes).amount, 60u);
        Buffer b = mem.allocate(root_, 40);
        ASSERT_NE(b.data(), nullptr);
        EXPECT_EQ(b.size(), 40u);
        b.span()[39] = std::byte{7};  // the block is really there (ASan checks the bounds)
        EXPECT_EQ(mem.stats().used, 100u);
        EXPECT_EQ(iso_.ledger.live(ResourceKind::buffer_bytes).amount, 100u);
        MemoryReservation moved = std::move(r);
        EXPECT_FALSE(r.held());  // NOLINT(bugprone-use-after-move): checking the moved-from state
        EXPECT_EQ(mem.stats().used, 100u);
    }
    const MemoryBudgetStats s = mem.stats();
    EXPECT_EQ(s.used, 0u);
    EXPECT_EQ(s.peak, 100u);
    EXPECT_EQ(s.capacity, 100u);
    EXPECT_EQ(s.acquired, 2u);
    EXPECT_EQ(iso_.ledger.live(ResourceKind::buffer_bytes).amount, 0u);
}

TEST_F(BudgetSyncTest, MemoryTimeoutNamesTheBudgetAndItsUsage) {
    MemoryBudget mem({.name = "batches", .capacity_bytes = 100});
    MemoryReservation held = mem.acquire(root_, 80);
    const auto start = Clock::now();
    try {
        MemoryReservation r = mem.acquire(root_, 30, 50ms);
        FAIL() << "expected BudgetTimeoutError";
    } catch (const BudgetTimeoutError& e) {
        EXPECT_GE(Clock::now() - start, 50ms);
        const std::string what = e.what();
        EXPECT_NE(what.find("memory budget 'batches'"), std::string::npos) << what;
        EXPECT_NE(what.find("30 bytes not available within 50ms"), std::string::npos) << what;
        EXPECT_NE(what.find("used 80 of 100"), std::string::npos) << what;
    }
    EXPECT_EQ(mem.stats().timeouts, 1u);
    EXPECT_EQ(mem.stats().used, 80u);
    EXPECT_FALSE(mem.try_acquire(root_, 30).held());
    EXPECT_TRUE(mem.try_acquire(root_, 20).held());
    // Larger than the whole budget: never satisfiable, not a timeout.
    try {
        MemoryReservation r = mem.acquire(root_, 101);
        FAIL() << "expected Error";
    } catch (const BudgetTimeoutError&) {
        FAIL() << "an impossible request is not transient";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("exceeds its capacity of 100"), std::string::npos);
    }
    EXPECT_THROW(MemoryBudget({.name = "zero", .capacity_bytes = 0}), ConfigError);
}

TEST_F(BudgetSyncTest, MemoryWaitersAreServedInArrivalOrderWithoutBarging) {
    MemoryBudget mem({.name = "batches", .capacity_bytes = 100, .acquire_timeout = 10s});
    MemoryReservation held = mem.acquire(root_, 50);
    std::mutex mu;
    std::vector<std::string> order;
    // big (80) and small (30) never fit together, so they are granted one after the other.
    std::jthread big([&] {
        MemoryReservation r = mem.acquire(root_, 80);
        std::lock_guard lock(mu);
        order.emplace_back("big");
    });
    EXPECT_TRUE(testing::eventually([&] { return mem.stats().waiting == 1; }, 10s, 1ms));
    std::jthread small([&] {
        MemoryReservation r = mem.acquire(root_, 30);  // fits now, but "big" came first
        std::lock_guard lock(mu);
        order.emplace_back("small");
    });
    EXPECT_TRUE(testing::eventually([&] { return mem.stats().waiting == 2; }, 10s, 1ms));
    EXPECT_EQ(mem.stats().used, 50u) << "the small request did not jump the queue";
    held.release();
    big.join();
    small.join();
    EXPECT_EQ(order, (std::vector<std::string>{"big", "small"}));
    const MemoryBudgetStats s = mem.stats();
    EXPECT_EQ(s.used, 0u);
    EXPECT_EQ(s.peak, 80u);
    EXPECT_EQ(s.waits, 2u);
}

TEST_F(BudgetSyncTest, MemoryAcquireHonoursTheScopesStopToken) {
    MemoryBudget mem({.name = "batches", .capacity_bytes = 10, .acquire_timeout = 30s});
    MemoryReservation held = mem.acquire(root_, 10);
    Scope task = root_.child("task");
    std::atomic<bool> cancelled{false};
    std::jthread t([&] {
        try {
            MemoryReservation r = mem.acquire(task, 5);
        } catch (const CancelledError&) {
            cancelled = true;
        }
    });
    EXPECT_TRUE(testing::eventually([&] { return mem.stats().waiting == 1; }, 10s, 1ms));
    task.request_stop();
    t.join();
    EXPECT_TRUE(cancelled.load());
    EXPECT_EQ(mem.stats().cancelled, 1u);
    EXPECT_EQ(mem.stats().waiting, 0u);
}

TEST_F(BudgetSyncTest, ReservationOutlivingItsScopeIsReportedAsLeak) {
    MemoryBudget mem({.name = "batches", .capacity_bytes = 1000});
    MemoryReservation escaped;
    {
        Scope task = root_.child("task");
        escaped = mem.acquire(task, 300);
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.scope_path, "svc/task");
    EXPECT_EQ(r.resource, "batches");
    EXPECT_EQ(r.resource_kind, ResourceKind::buffer_bytes);
    EXPECT_NE(r.site.find("budget_sync_test.cc"), std::string::npos) << r.site;
    escaped.release();
    EXPECT_EQ(mem.stats().used, 0u);
}

// --- Semaphore ------------------------------------------------------------------------------

TEST_F(BudgetSyncTest, SemaphoreServesWaitersInArrivalOrder) {
    Semaphore sem({.name = "geo-api", .permits = 1, .acquire_timeout = 10s});
    SemaphorePermit held = sem.acquire(root_);
    std::mutex mu;
    std::vector<std::string> order;
    std::vector<std::jthread> threads;
    for (const char* name : {"a", "b", "c"}) {
        const std::size_t before = sem.stats().waiting;
        threads.emplace_back([&, name] {
            SemaphorePermit p = sem.acquire(root_);
            std::lock_guard lock(mu);
            order.emplace_back(name);
        });
        EXPECT_TRUE(
            testing::eventually([&] { return sem.stats().waiting == before + 1; }, 10s, 1ms));
    }
    held.release();
    threads.clear();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
    const SemaphoreStats s = sem.stats();
    EXPECT_EQ(s.acquired, 4u);
    EXPECT_EQ(s.waits, 3u);
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.hold_time.count, 4u);
}

TEST_F(BudgetSyncTest, SemaphoreAcquireIsCancelledByTheStopToken) {
    Semaphore sem({.name = "geo-api", .permits = 1, .acquire_timeout = 30s});
    SemaphorePermit held = sem.acquire(root_);
    Scope worker = root_.child("worker");
    std::atomic<bool> cancelled{false};
    std::jthread t([&] {
        try {
            SemaphorePermit p = sem.acquire(worker);
        } catch (const CancelledError& e) {
            cancelled = std::string(e.what()).find("semaphore 'geo-api'") != std::string::npos;
        }
    });
    EXPECT_TRUE(testing::eventually([&] { return sem.stats().waiting == 1; }, 10s, 1ms));
    worker.request_stop();
    t.join();
    EXPECT_TRUE(cancelled.load());
    EXPECT_EQ(sem.stats().cancelled, 1u);
    // A stopped scope's later acquire is refused at once when it would have to wait.
    EXPECT_THROW(SemaphorePermit p = sem.acquire(worker), CancelledError);
}

TEST_F(BudgetSyncTest, SemaphoreTimeoutNamesItAndItsHolders) {
    Semaphore sem({.name = "geo-api", .permits = 1});
    Scope holder = root_.child("holder");
    SemaphorePermit held = sem.acquire(holder);
    try {
        SemaphorePermit p = sem.acquire(root_, 20ms);
        FAIL() << "expected BudgetTimeoutError";
    } catch (const BudgetTimeoutError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("semaphore 'geo-api': not acquired within 20ms"), std::string::npos)
            << what;
        EXPECT_NE(what.find("1 of 1 held"), std::string::npos) << what;
        EXPECT_NE(what.find("held by svc/holder"), std::string::npos) << what;
        EXPECT_NE(what.find("budget_sync_test.cc"), std::string::npos) << what;
    }
    EXPECT_EQ(sem.stats().timeouts, 1u);
    ASSERT_EQ(sem.holders().size(), 1u);
    EXPECT_EQ(sem.holders()[0].owner_path, "svc/holder");
    EXPECT_FALSE(sem.try_acquire(root_).held());
    EXPECT_THROW(Semaphore({.name = "none", .permits = 0}), ConfigError);
}

TEST_F(BudgetSyncTest, SemaphoreRecordsHoldTimesAndReportsLongHolds) {
    Semaphore sem({.name = "geo-api", .permits = 2, .long_hold = 10ms});
    { SemaphorePermit quick = sem.acquire(root_); }
    {
        SemaphorePermit slow = sem.acquire(root_);
        std::this_thread::sleep_for(30ms);  // the hold itself is what is measured
    }
    const SemaphoreStats s = sem.stats();
    EXPECT_EQ(s.hold_time.count, 2u);
    EXPECT_GE(s.hold_time.max_ns, 30'000'000u);
    EXPECT_EQ(s.long_holds, 1u);
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.resource, "geo-api");
    EXPECT_EQ(r.resource_kind, ResourceKind::semaphore);
    EXPECT_NE(r.message.find("semaphore 'geo-api' held for"), std::string::npos) << r.message;
    EXPECT_GE(r.elapsed, 30ms);
}

TEST_F(BudgetSyncTest, PermitOutlivingItsScopeIsReportedAsLeak) {
    Semaphore sem({.name = "geo-api", .permits = 1});
    SemaphorePermit escaped;
    {
        Scope task = root_.child("task");
        escaped = sem.acquire(task);
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.scope_path, "svc/task");
    EXPECT_EQ(r.resource, "geo-api");
    EXPECT_EQ(r.resource_kind, ResourceKind::semaphore);
    escaped.release();
    EXPECT_EQ(sem.stats().in_use, 0u);
}

// --- TrackedMutex ---------------------------------------------------------------------------

TEST_F(BudgetSyncTest, MutexRecordsHoldTimeContentionAndTheHolder) {
    TrackedMutex mu({.name = "orders-index"});
    Scope worker = root_.child("worker-1");
    TrackedLock lock = mu.lock(worker);
    const std::optional<Holder> h = mu.holder();
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->owner_path, "svc/worker-1");
    EXPECT_NE(h->site.find("budget_sync_test.cc"), std::string::npos) << h->site;
    EXPECT_TRUE(mu.stats().locked);
    EXPECT_FALSE(mu.try_lock(root_).owns_lock());
    std::jthread t([&] {
        TrackedLock l = mu.lock(root_);
        EXPECT_EQ(mu.holder()->owner_path, "svc");
    });
    EXPECT_TRUE(testing::eventually([&] { return mu.stats().waiting == 1; }, 10s, 1ms));
    std::this_thread::sleep_for(20ms);  // measured hold time
    lock.unlock();
    t.join();
    const TrackedMutexStats s = mu.stats();
    EXPECT_FALSE(s.locked);
    EXPECT_EQ(s.acquired, 2u);
    EXPECT_EQ(s.contended, 1u);
    EXPECT_EQ(s.hold_time.count, 2u);
    EXPECT_GE(s.hold_time.max_ns, 20'000'000u);
    EXPECT_FALSE(mu.holder().has_value());
}

TEST_F(BudgetSyncTest, MutexTimeoutNamesTheHolder) {
    TrackedMutex mu({.name = "orders-index"});
    Scope worker = root_.child("worker-2");
    TrackedLock lock = mu.lock(worker);
    try {
        TrackedLock l = mu.lock(root_, 20ms);
        FAIL() << "expected BudgetTimeoutError";
    } catch (const BudgetTimeoutError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("mutex 'orders-index': not acquired within 20ms"), std::string::npos)
            << what;
        EXPECT_NE(what.find("held by svc/worker-2"), std::string::npos) << what;
    }
    EXPECT_EQ(mu.stats().timeouts, 1u);
}

TEST_F(BudgetSyncTest, LockOutlivingItsScopeIsReportedAsLeak) {
    TrackedMutex mu({.name = "orders-index"});
    TrackedLock escaped;
    {
        Scope task = root_.child("task");
        escaped = mu.lock(task);
        task.close();
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    const Report r = iso_.monitor.recent().back();
    EXPECT_EQ(r.scope_path, "svc/task");
    EXPECT_EQ(r.resource, "orders-index");
    EXPECT_EQ(r.resource_kind, ResourceKind::lock);
    EXPECT_NE(r.site.find("budget_sync_test.cc"), std::string::npos) << r.site;
    EXPECT_TRUE(mu.stats().locked) << "a leak report does not unlock";
    escaped.unlock();
    EXPECT_FALSE(mu.stats().locked);
}

TEST_F(BudgetSyncTest, LockingOnAClosedScopeIsRefused) {
    TrackedMutex mu({.name = "m"});
    Scope task = root_.child("task");
    task.close();
    EXPECT_THROW(TrackedLock l = mu.lock(task), ScopeClosedError);
    EXPECT_FALSE(mu.stats().locked);
}

// --- 8-thread stress --------------------------------------------------------------------------

constexpr int kThreads = 8;

TEST_F(BudgetSyncTest, MemoryBudgetNeverOvercommitsUnderEightThreads) {
    constexpr std::uint64_t kCapacity = 1000;
    MemoryBudget mem({.name = "stress", .capacity_bytes = kCapacity, .acquire_timeout = 30s});
    std::atomic<std::uint64_t> in_use{0};
    std::atomic<std::uint64_t> max_in_use{0};
    std::vector<Scope> workers;
    for (int t = 0; t < kThreads; ++t) {
        workers.push_back(root_.child("worker-" + std::to_string(t)));
    }
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            std::uniform_int_distribution<std::uint64_t> size(1, 400);
            for (int i = 0; i < 2000; ++i) {
                const std::uint64_t n = size(rng);
                MemoryReservation r = mem.acquire(workers[static_cast<std::size_t>(t)], n);
                const std::uint64_t now = in_use.fetch_add(n) + n;
                std::uint64_t seen = max_in_use.load();
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                in_use.fetch_sub(n);
            }
        });
    }
    threads.clear();
    const MemoryBudgetStats s = mem.stats();
    EXPECT_LE(max_in_use.load(), kCapacity);
    EXPECT_LE(s.peak, kCapacity);
    EXPECT_EQ(s.used, 0u);
    EXPECT_EQ(s.acquired, static_cast<std::uint64_t>(kThreads) * 2000);
    EXPECT_EQ(s.timeouts, 0u);
}

TEST_F(BudgetSyncTest, SemaphoreBoundsConcurrencyUnderEightThreads) {
    constexpr std::size_t kPermits = 3;
    Semaphore sem({.name = "stress", .permits = kPermits, .acquire_timeout = 30s});
    std::atomic<std::size_t> in_use{0};
    std::atomic<std::size_t> max_in_use{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                SemaphorePermit p = sem.acquire(root_);
                const std::size_t now = in_use.fetch_add(1) + 1;
                std::size_t seen = max_in_use.load();
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                in_use.fetch_sub(1);
            }
        });
    }
    threads.clear();
    const SemaphoreStats s = sem.stats();
    EXPECT_LE(max_in_use.load(), kPermits);
    EXPECT_EQ(s.in_use, 0u);
    EXPECT_EQ(s.acquired, static_cast<std::uint64_t>(kThreads) * 2000);
    EXPECT_EQ(s.hold_time.count, s.acquired);
}

TEST_F(BudgetSyncTest, MutexExcludesUnderEightThreads) {
    TrackedMutex mu({.name = "stress", .acquire_timeout = 30s});
    long counter = 0;  // plain: the mutex is the only thing keeping it consistent (TSan checks)
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                TrackedLock l = mu.lock(root_);
                counter = counter + 1;
            }
        });
    }
    threads.clear();
    EXPECT_EQ(counter, kThreads * 2000L);
    const TrackedMutexStats s = mu.stats();
    EXPECT_EQ(s.acquired, static_cast<std::uint64_t>(kThreads) * 2000);
    EXPECT_EQ(s.hold_time.count, s.acquired);
    EXPECT_FALSE(s.locked);
}

}  // namespace
}  // namespace scopeflow
