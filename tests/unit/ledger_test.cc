#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

namespace scopeflow {
namespace {

class NamedOwner final : public LedgerOwner {
public:
    explicit NamedOwner(std::string path)
        : path_(std::move(path)) {}
    std::string owner_path() const override { return path_; }

private:
    std::string path_;
};

TEST(LedgerTest, CountsLiveEntriesPerKindAndOwner) {
    Ledger ledger;
    NamedOwner a("svc/a");
    NamedOwner b("svc/b");
    const LedgerId c1 = ledger.acquire({"c1", ResourceKind::connection}, &a);
    const LedgerId c2 = ledger.acquire({"c2", ResourceKind::connection}, &b);
    const LedgerId buf = ledger.acquire({"buf", ResourceKind::buffer_bytes, 1024}, &a);
    EXPECT_EQ(ledger.live(ResourceKind::connection).entries, 2U);
    EXPECT_EQ(ledger.live(ResourceKind::buffer_bytes).amount, 1024U);
    EXPECT_EQ(a.live_entries(), 2);
    EXPECT_EQ(b.live_entries(), 1);

    const LedgerSnapshot snap = ledger.snapshot();
    EXPECT_EQ(snap.live_total(), 3U);
    ASSERT_EQ(snap.entries.size(), 3U);
    EXPECT_EQ(snap.entries[0].name, "c1");  // oldest first
    EXPECT_EQ(snap.entries[2].name, "buf");
    ASSERT_EQ(snap.by_owner.size(), 3U);
    EXPECT_EQ(snap.by_owner[0].owner_path, "svc/a");

    EXPECT_TRUE(ledger.release(c1));
    EXPECT_TRUE(ledger.release(c2));
    EXPECT_TRUE(ledger.release(buf));
    EXPECT_EQ(ledger.live_total(), 0U);
    EXPECT_EQ(a.live_entries(), 0);
}

TEST(LedgerTest, DoubleAndUnknownReleasesAreRefused) {
    Ledger ledger;
    const LedgerId id = ledger.acquire({"x"}, nullptr);
    EXPECT_TRUE(ledger.release(id));
    EXPECT_FALSE(ledger.release(id));
    EXPECT_FALSE(ledger.release(LedgerId{}));
    EXPECT_FALSE(ledger.release(LedgerId{0xFFFFFFFFFFFFFFFFULL}));
    // A reused slot gets a new generation: the stale id does not release the new entry.
    const LedgerId reused = ledger.acquire({"y"}, nullptr);
    EXPECT_FALSE(ledger.release(id));
    EXPECT_EQ(ledger.live_total(), 1U);
    EXPECT_TRUE(ledger.release(reused));
}

TEST(LedgerTest, OrphanReturnsWhatTheOwnerStillHeldAndKeepsItsPath) {
    Ledger ledger;
    LedgerId id;
    {
        NamedOwner owner("svc/pool");
        id = ledger.acquire({"lease", ResourceKind::connection}, &owner);
        const auto leaked = ledger.orphan(owner);
        ASSERT_EQ(leaked.size(), 1U);
        EXPECT_EQ(leaked[0].name, "lease");
        EXPECT_EQ(leaked[0].owner_path, "svc/pool");
        EXPECT_TRUE(leaked[0].orphaned);
        EXPECT_EQ(owner.live_entries(), 0);
    }  // the owner is gone; the entry must not point at it any more
    const LedgerSnapshot snap = ledger.snapshot();
    ASSERT_EQ(snap.entries.size(), 1U);
    EXPECT_EQ(snap.entries[0].owner_path, "svc/pool");
    EXPECT_TRUE(ledger.release(id));
}

TEST(LedgerTest, ReleasingAnOrphanTellsItsObserverOnce) {
    struct Observer final : OrphanObserver {
        std::vector<LedgerEntry> seen;
        void orphan_released(const LedgerEntry& e) noexcept override { seen.push_back(e); }
    } observer;
    Ledger ledger;
    NamedOwner owner("svc/worker");
    const LedgerId orphaned = ledger.acquire({"lease db", ResourceKind::connection}, &owner);
    const LedgerId returned = ledger.acquire({"lease db", ResourceKind::connection}, &owner);
    EXPECT_TRUE(ledger.release(returned));  // before the owner ended: no late release
    ASSERT_EQ(ledger.orphan(owner, &observer).size(), 1U);
    EXPECT_TRUE(observer.seen.empty());
    EXPECT_TRUE(ledger.release(orphaned));
    ASSERT_EQ(observer.seen.size(), 1U);
    EXPECT_EQ(observer.seen[0].name, "lease db");
    EXPECT_EQ(observer.seen[0].owner_path, "svc/worker");
    EXPECT_TRUE(observer.seen[0].orphaned);
    EXPECT_FALSE(ledger.release(orphaned));  // a double release tells nobody
    EXPECT_EQ(observer.seen.size(), 1U);
}

TEST(LedgerTest, TicketReleasedAfterItsScopeClosedIsReportedAsLateRelease) {
    Ledger ledger;
    ResourceMonitor monitor{ledger, {.log_to_stderr = false}};
    Ticket ticket;
    {
        Scope worker("svc", {.monitor = &monitor});
        Scope task = worker.child("task-1");
        ticket = task.track({"lease orders-db", ResourceKind::connection});
        Ticket returned_in_time = task.track({"lease orders-db", ResourceKind::connection});
        returned_in_time.release();
        task.close();
    }
    ASSERT_EQ(monitor.count(ReportKind::leak), 1U);
    EXPECT_EQ(monitor.count(ReportKind::late_release), 0U);
    ticket.release();  // the orphan comes back after all
    ASSERT_EQ(monitor.count(ReportKind::late_release), 1U);
    const Report late = monitor.recent().back();
    EXPECT_EQ(late.kind, ReportKind::late_release);
    EXPECT_EQ(late.scope_path, "svc/task-1");
    EXPECT_EQ(late.resource, "lease orders-db");
    EXPECT_EQ(late.resource_kind, ResourceKind::connection);
    EXPECT_NE(format_report(late).find("late_release: svc/task-1"), std::string::npos);
    EXPECT_EQ(ledger.live_total(), 0U);
    ticket.release();  // idempotent: no second report
    EXPECT_EQ(monitor.count(ReportKind::late_release), 1U);
}

TEST(LedgerTest, AMonitorDestroyedBeforeAnOrphanIsReleasedIsNotCalled) {
    Ledger ledger;
    Ticket ticket;
    {
        ResourceMonitor monitor{ledger, {.log_to_stderr = false}};
        Scope task("task", {.monitor = &monitor});
        ticket = task.track({"lease", ResourceKind::connection});
        task.close();
        EXPECT_EQ(monitor.count(ReportKind::leak), 1U);
    }
    ticket.release();  // would use the destroyed monitor (ASan) if it were still attached
    EXPECT_EQ(ledger.live_total(), 0U);
}

TEST(LedgerTest, ConcurrentAcquireAndReleaseBalance) {
    Ledger ledger;
    NamedOwner owner("svc");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            std::vector<LedgerId> ids;
            for (int i = 0; i < 2000; ++i) {
                ids.push_back(ledger.acquire({"r", ResourceKind::file}, &owner));
                if (i % 3 == 0) {
                    EXPECT_TRUE(ledger.release(ids.back()));
                    ids.pop_back();
                }
            }
            for (LedgerId id : ids) {
                EXPECT_TRUE(ledger.release(id));
            }
        });
    }
    for (int i = 0; i < 50; ++i) {
        (void)ledger.snapshot();
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ledger.live_total(), 0U);
    EXPECT_EQ(owner.live_entries(), 0);
    EXPECT_EQ(ledger.snapshot().acquired_total, 8000U);
}

TEST(ResourceMonitorTest, KeepsABoundedRingAndCountsWhatItDrops) {
    Ledger ledger;
    ResourceMonitor monitor(ledger, {.recent_capacity = 2, .log_to_stderr = false});
    int sunk = 0;
    monitor.set_sink([&](const Report&) { ++sunk; });
    for (int i = 0; i < 5; ++i) {
        monitor.report({.kind = ReportKind::leak, .resource = "r" + std::to_string(i)});
    }
    EXPECT_EQ(sunk, 5);
    EXPECT_EQ(monitor.count(ReportKind::leak), 5U);
    const MonitorSnapshot snap = monitor.snapshot();
    EXPECT_EQ(snap.dropped, 3U);
    ASSERT_EQ(snap.recent.size(), 2U);
    EXPECT_EQ(snap.recent[0].resource, "r3");
    EXPECT_EQ(snap.recent[1].resource, "r4");
}

TEST(ResourceMonitorTest, ThrowingSinkDoesNotBreakReporting) {
    Ledger ledger;
    ResourceMonitor monitor(ledger, {.log_to_stderr = false});
    monitor.set_sink([](const Report&) { throw std::runtime_error("sink down"); });
    monitor.report({.kind = ReportKind::stuck, .scope_path = "svc", .resource = "x"});
    EXPECT_EQ(monitor.count(ReportKind::stuck), 1U);
}

TEST(ResourceMonitorTest, FormatsAReportAsOneReadableLine) {
    const std::string line = format_report({.kind = ReportKind::stuck,
                                            .scope_path = "service/upload",
                                            .resource = "http",
                                            .resource_kind = ResourceKind::connection,
                                            .site = "a.cc:3",
                                            .message = "abandoned",
                                            .elapsed = std::chrono::milliseconds(250)});
    EXPECT_EQ(line,
              "stuck: service/upload: connection 'http' after 250ms (acquired at a.cc:3): "
              "abandoned");
}

}  // namespace
}  // namespace scopeflow
