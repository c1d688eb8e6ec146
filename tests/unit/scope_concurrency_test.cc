// Concurrency guarantees of Scope, meant to run under TSan (label: concurrency).
#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "support/leak_check.h"

namespace scopeflow {
namespace {

// Counts releases; each instance must be released exactly once.
struct Counted {
    std::atomic<int>* released;
    bool moved_from = false;
    explicit Counted(std::atomic<int>* r)
        : released(r) {}
    Counted(Counted&& o) noexcept
        : released(o.released) {
        o.moved_from = true;
    }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    Counted& operator=(Counted&&) = delete;
    ~Counted() = default;
    void close() {
        if (!moved_from) {
            released->fetch_add(1);
            moved_from = true;
        }
    }
};

class ScopeConcurrencyTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
};

TEST_F(ScopeConcurrencyTest, AdoptRacingCloseNeverLeaksOrDoubleReleases) {
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> released{0};
        int attempts = 0;
        int adopted = 0;
        int refused = 0;
        Scope s("svc", {.monitor = &iso_.monitor});
        std::latch start(2);
        std::thread adopter([&] {
            start.arrive_and_wait();
            for (int i = 0; i < 200; ++i) {
                ++attempts;
                try {
                    s.adopt({"r"}, Counted(&released));
                    ++adopted;
                } catch (const ScopeClosedError&) {
                    ++refused;
                }
            }
        });
        start.arrive_and_wait();
        s.close();
        adopter.join();
        s.close();  // idempotent: releases whatever was adopted after... nothing can be
        EXPECT_EQ(adopted + refused, attempts);
        EXPECT_EQ(released.load(), attempts) << "round " << round;
        EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    }
}

TEST_F(ScopeConcurrencyTest, TwoThreadsClosingReleaseEachResourceOnce) {
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> released{0};
        Scope s("svc", {.monitor = &iso_.monitor});
        for (int i = 0; i < 100; ++i) {
            s.adopt({"r"}, Counted(&released));
        }
        std::latch start(2);
        bool closed_seen_by_other = false;
        std::thread other([&] {
            start.arrive_and_wait();
            s.close();
            closed_seen_by_other = s.closed();  // close() returns only once closed
        });
        start.arrive_and_wait();
        s.close();
        EXPECT_TRUE(s.closed());
        other.join();
        EXPECT_TRUE(closed_seen_by_other);
        EXPECT_EQ(released.load(), 100);
    }
}

TEST_F(ScopeConcurrencyTest, ChildrenCreatedWhileTheParentClosesAreAllClosed) {
    for (int round = 0; round < 30; ++round) {
        std::atomic<int> released{0};
        std::atomic<int> adopted{0};
        Scope svc("svc", {.monitor = &iso_.monitor});
        std::latch start(3);
        auto worker = [&](const char* name) {
            start.arrive_and_wait();
            for (int i = 0; i < 50; ++i) {
                try {
                    Scope task = svc.child(name, {.level = ScopeLevel::task});
                    task.adopt({"r"}, Counted(&released));
                    adopted.fetch_add(1);
                    task.adopt({"r2"}, Counted(&released));
                    adopted.fetch_add(1);
                } catch (const ScopeClosedError&) {
                    // the scope closed under us: offered resources were released
                }
            }
        };
        std::thread a(worker, "task-a");
        std::thread b(worker, "task-b");
        start.arrive_and_wait();
        svc.close();
        a.join();
        b.join();
        EXPECT_GE(released.load(), adopted.load());
        EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    }
}

TEST_F(ScopeConcurrencyTest, CloseWakesABlockingWaitInAChildOnAnotherThread) {
    Scope svc("svc", {.monitor = &iso_.monitor});
    Scope worker_scope = svc.child("worker-1", {.level = ScopeLevel::worker});
    std::mutex mu;
    std::condition_variable_any cv;
    std::atomic<bool> woke{false};
    std::stop_token token = worker_scope.stop_token();
    std::thread worker([&] {
        std::unique_lock lock(mu);
        cv.wait(lock, token, [] { return false; });  // only a stop ends this wait
        woke = true;
    });
    svc.request_stop();
    worker.join();
    EXPECT_TRUE(woke.load());
    svc.close();
}

TEST_F(ScopeConcurrencyTest, SnapshotWhileScopesChurn) {
    Scope svc("svc", {.monitor = &iso_.monitor});
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        int i = 0;
        while (!stop.load()) {
            Scope task = svc.child("task-" + std::to_string(i++ % 4));
            task.adopt({"buf", ResourceKind::buffer_bytes, 64}, std::vector<char>(64));
        }
    });
    for (int i = 0; i < 200; ++i) {
        const MonitorSnapshot snap = iso_.monitor.snapshot();
        EXPECT_LE(snap.ledger.entries.size(), 1U);
    }
    stop = true;
    churn.join();
    svc.close();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

}  // namespace
}  // namespace scopeflow
