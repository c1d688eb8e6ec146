#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>

#include "support/leak_check.h"
#include "support/probe.h"

namespace scopeflow {
namespace {

using testing::count_open_fds;
using testing::EventLog;
using testing::Probe;
using V = std::vector<std::string>;

class ScopeTest : public ::testing::Test {
protected:
    ScopeOptions opts(ScopeLevel level = ScopeLevel::other) {
        return {.level = level, .monitor = &iso_.monitor};
    }
    Ledger& ledger() { return iso_.ledger; }
    ResourceMonitor& monitor() { return iso_.monitor; }

    testing::Isolated iso_;
    EventLog log_;
};

TEST_F(ScopeTest, ReleasesInReverseOrderOfAcquisition) {
    Scope s("svc", opts());
    s.adopt({"a"}, Probe(log_, "a"));
    s.defer({"b"}, [&] { log_.add("close b"); });
    s.adopt({"c"}, Probe(log_, "c"));
    EXPECT_EQ(s.resource_count(), 3U);
    EXPECT_EQ(ledger().live_total(), 3U);
    s.close();
    EXPECT_EQ(log_.events(), (V{"close c", "close b", "close a"}));
    EXPECT_TRUE(testing::nothing_live(ledger()));
    EXPECT_TRUE(s.closed());
}

TEST_F(ScopeTest, ClosesChildrenBeforeOwnResourcesNewestChildFirst) {
    Scope svc("svc", opts(ScopeLevel::service));
    svc.adopt({"svc-db"}, Probe(log_, "svc-db"));
    Scope p1 = svc.child("p1", {.level = ScopeLevel::pipeline});
    p1.adopt({"p1-file"}, Probe(log_, "p1-file"));
    Scope stage = p1.child("enrich", {.level = ScopeLevel::stage});
    stage.adopt({"stage-conn"}, Probe(log_, "stage-conn"));
    Scope p2 = svc.child("p2");
    p2.adopt({"p2-file"}, Probe(log_, "p2-file"));
    svc.adopt({"svc-late"}, Probe(log_, "svc-late"));  // acquired after the children exist

    svc.close();
    EXPECT_EQ(log_.events(), (V{"close p2-file", "close stage-conn", "close p1-file",
                                "close svc-late", "close svc-db"}));
    EXPECT_TRUE(p1.closed());
    EXPECT_TRUE(stage.closed());
    EXPECT_TRUE(p2.closed());
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, PathNamesEveryResourceInTheLedger) {
    Scope svc("service", opts(ScopeLevel::service));
    Scope pipe = svc.child("pipeline");
    Scope stage = pipe.child("enrich");
    Scope worker = stage.child("worker-1", {.level = ScopeLevel::worker});
    worker.adopt({"conn", ResourceKind::connection}, Probe(log_, "conn"));
    worker.adopt({"buf", ResourceKind::buffer_bytes, 4096}, std::make_unique<char[]>(4096));
    EXPECT_EQ(worker.path(), "service/pipeline/enrich/worker-1");
    EXPECT_EQ(worker.level(), ScopeLevel::worker);

    const LedgerSnapshot snap = ledger().snapshot();
    ASSERT_EQ(snap.entries.size(), 2U);
    EXPECT_EQ(snap.entries[0].owner_path, "service/pipeline/enrich/worker-1");
    EXPECT_EQ(snap.entries[0].name, "conn");
    EXPECT_EQ(snap.entries[0].kind, ResourceKind::connection);
    EXPECT_NE(snap.entries[0].site.find("scope_test.cc:"), std::string::npos);
    EXPECT_EQ(snap.by_kind[static_cast<std::size_t>(ResourceKind::buffer_bytes)].amount, 4096U);
    ASSERT_EQ(snap.by_owner.size(), 2U);
    EXPECT_EQ(snap.by_owner[0].owner_path, "service/pipeline/enrich/worker-1");
    svc.close();
}

TEST_F(ScopeTest, CloseIsIdempotent) {
    Scope s("svc", opts());
    s.adopt({"a"}, Probe(log_, "a"));
    s.close();
    s.close();
    EXPECT_NO_THROW(s.close());
    EXPECT_EQ(log_.events(), (V{"close a"}));
}

TEST_F(ScopeTest, EveryCleanupRunsAndTheFirstFailureIsPrimary) {
    Scope s("svc", opts());
    s.adopt({"a"}, Probe(log_, "a", /*throw_on_close=*/true));
    s.adopt({"b"}, Probe(log_, "b"));
    s.adopt({"c"}, Probe(log_, "c", /*throw_on_close=*/true));
    try {
        s.close();
        FAIL() << "close() should throw";
    } catch (const CloseError& e) {
        ASSERT_EQ(e.failures().size(), 2U);
        EXPECT_EQ(e.primary().resource, "c");
        EXPECT_EQ(e.failures()[1].resource, "a");
        EXPECT_NE(std::string(e.what()).find("svc: release of 'c'"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("c close failed"), std::string::npos);
        ASSERT_EQ(e.suppressed().size(), 1U);
        EXPECT_NE(message_of(e.suppressed()[0]).find("a close failed"), std::string::npos);
    }
    EXPECT_EQ(log_.events(), (V{"close c", "close b", "close a"}));
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, BodyErrorAndTwoCleanupErrorsAreAllReportedInOrder) {
    Scope s("svc", opts());
    try {
        s.run([&](Scope& scope) {
            scope.adopt({"first"}, Probe(log_, "first", true));
            scope.adopt({"second"}, Probe(log_, "second", true));
            throw TransientError("body failed");
        });
        FAIL() << "run() should rethrow the body's error";
    } catch (const TransientError& e) {  // the body's own type survives
        EXPECT_STREQ(e.what(), "body failed");
        ASSERT_EQ(e.suppressed().size(), 2U);
        EXPECT_NE(message_of(e.suppressed()[0]).find("second close failed"), std::string::npos);
        EXPECT_NE(message_of(e.suppressed()[1]).find("first close failed"), std::string::npos);
        const std::string all = describe(std::current_exception());
        EXPECT_LT(all.find("body failed"), all.find("second close failed"));
        EXPECT_LT(all.find("second close failed"), all.find("first close failed"));
    }
    EXPECT_TRUE(testing::nothing_live(ledger()));
    EXPECT_EQ(monitor().count(ReportKind::close_error), 0U);  // attached, not reported twice
}

TEST_F(ScopeTest, ForeignBodyErrorPropagatesUnchangedAndCleanupsGoToTheMonitor) {
    Scope s("svc", opts());
    EXPECT_THROW(s.run([&](Scope& scope) {
        scope.adopt({"a"}, Probe(log_, "a", true));
        throw std::logic_error("not ours");
    }),
                 std::logic_error);
    ASSERT_EQ(monitor().count(ReportKind::close_error), 1U);
    const Report r = monitor().recent().at(0);
    EXPECT_EQ(r.resource, "a");
    EXPECT_NE(r.message.find("a close failed"), std::string::npos);
    EXPECT_NE(r.message.find("not ours"), std::string::npos);
}

TEST_F(ScopeTest, RunReturnsTheBodyResultAndCloses) {
    Scope s("svc", opts());
    const int v = s.run([&](Scope& scope) {
        scope.adopt({"a"}, Probe(log_, "a"));
        return 42;
    });
    EXPECT_EQ(v, 42);
    EXPECT_TRUE(s.closed());
    EXPECT_EQ(log_.events(), (V{"close a"}));
}

TEST_F(ScopeTest, PartialOpenReleasesWhatWasAcquiredThenReportsTheFailure) {
    Scope svc("svc", opts());
    const int fds_before = count_open_fds();
    auto open_stage = [&](Scope& stage) {
        stage.adopt({"log", ResourceKind::file}, UniqueFd::open("/dev/null", O_WRONLY));
        stage.adopt({"a"}, Probe(log_, "a"));
        stage.adopt({"missing", ResourceKind::file},
                    UniqueFd::open("/nonexistent/dir/file", O_RDONLY));  // throws
        stage.adopt({"never"}, Probe(log_, "never"));
    };
    Scope stage = svc.child("stage");
    try {
        stage.run(open_stage);
        FAIL();
    } catch (const SystemError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/file"), std::string::npos);
    }
    EXPECT_EQ(log_.events(), (V{"close a"}));
    EXPECT_EQ(count_open_fds(), fds_before);
    EXPECT_TRUE(testing::nothing_live(ledger()));
    EXPECT_TRUE(stage.closed());
    EXPECT_FALSE(svc.closed());
}

TEST_F(ScopeTest, DestructionDuringStackUnwindingReleasesAndReports) {
    try {
        Scope s("svc", opts());
        s.adopt({"a"}, Probe(log_, "a"));
        s.adopt({"b"}, Probe(log_, "b", true));
        throw std::runtime_error("unwinding");
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "unwinding");  // the cleanup error did not replace it
    }
    EXPECT_EQ(log_.events(), (V{"close b", "close a"}));
    ASSERT_EQ(monitor().count(ReportKind::close_error), 1U);
    const Report r = monitor().recent().at(0);
    EXPECT_EQ(r.scope_path, "svc");
    EXPECT_EQ(r.resource, "b");
    EXPECT_NE(r.message.find("while unwinding"), std::string::npos);
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, DestructorClosesWithoutThrowing) {
    {
        Scope s("svc", opts());
        s.adopt({"x"}, Probe(log_, "x", true));
    }
    EXPECT_EQ(log_.events(), (V{"close x"}));
    EXPECT_EQ(monitor().count(ReportKind::close_error), 1U);
}

TEST_F(ScopeTest, AdoptAfterCloseReleasesTheResourceAndThrows) {
    Scope s("svc", opts());
    s.close();
    EXPECT_THROW(s.adopt({"late"}, Probe(log_, "late")), ScopeClosedError);
    EXPECT_EQ(log_.events(), (V{"close late"}));
    bool ran = false;
    EXPECT_THROW(s.defer({"late-defer"}, [&] { ran = true; }), ScopeClosedError);
    EXPECT_TRUE(ran);
    EXPECT_THROW((void)s.child("late-child"), ScopeClosedError);
    EXPECT_THROW((void)s.track({"late-ticket"}), ScopeClosedError);
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, LargeResourcesAreBoxedAndStayAtAStableAddress) {
    struct Big {
        char payload[512] = {};
        EventLog* log;
        void close() { log->add("close big"); }
    };
    Scope s("svc", opts());
    Big& big = s.adopt({"big"}, Big{.log = &log_});
    big.payload[0] = 'x';
    std::vector<int*> addresses;
    for (int i = 0; i < 20; ++i) {  // spill into several entry blocks
        addresses.push_back(&s.adopt({"int"}, int{i}));
    }
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(*addresses[static_cast<std::size_t>(i)], i);
    }
    EXPECT_EQ(big.payload[0], 'x');
    s.close();
    EXPECT_EQ(log_.events(), (V{"close big"}));
}

TEST_F(ScopeTest, StopTokenReachesChildrenAndCloseStopsTheScope) {
    Scope svc("svc", opts());
    Scope child = svc.child("child");
    Scope grandchild = child.child("grandchild");
    std::stop_token t = grandchild.stop_token();
    Scope later = child.child("later");  // created after the token, before the stop
    EXPECT_FALSE(t.stop_requested());
    svc.request_stop();
    EXPECT_TRUE(t.stop_requested());
    EXPECT_TRUE(later.stop_token().stop_requested());
    EXPECT_FALSE(svc.closed());

    Scope other("other", opts());
    std::stop_token o = other.stop_token();
    other.close();
    EXPECT_TRUE(o.stop_requested());
}

TEST_F(ScopeTest, StoppingAChildDoesNotStopItsParent) {
    Scope svc("svc", opts());
    Scope child = svc.child("child");
    child.request_stop();
    EXPECT_TRUE(child.stop_token().stop_requested());
    EXPECT_FALSE(svc.stop_token().stop_requested());
}

TEST_F(ScopeTest, TicketEndedBeforeTheOwnerIsNotALeak) {
    Scope s("svc", opts());
    {
        Ticket t = s.track({"lease", ResourceKind::connection});
        EXPECT_TRUE(t.active());
        EXPECT_EQ(ledger().live(ResourceKind::connection).entries, 1U);
    }
    s.close();
    EXPECT_EQ(monitor().count(ReportKind::leak), 0U);
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, TicketOutlivingItsOwnerIsReportedAsALeakNamingTheOwner) {
    Ticket escaped;
    {
        Scope svc("service", opts());
        Scope stage = svc.child("upload");
        escaped = stage.track({"lease http", ResourceKind::connection});  // moved out
    }
    ASSERT_EQ(monitor().count(ReportKind::leak), 1U);
    const Report r = monitor().recent().at(0);
    EXPECT_EQ(r.scope_path, "service/upload");
    EXPECT_EQ(r.resource, "lease http");
    EXPECT_EQ(r.resource_kind, ResourceKind::connection);
    EXPECT_NE(r.site.find("scope_test.cc:"), std::string::npos);
    // Still live (the ledger tells the truth) and flagged as an orphan until returned.
    LedgerSnapshot snap = ledger().snapshot();
    ASSERT_EQ(snap.entries.size(), 1U);
    EXPECT_TRUE(snap.entries[0].orphaned);
    EXPECT_EQ(snap.entries[0].owner_path, "service/upload");
    escaped.release();
    EXPECT_TRUE(testing::nothing_live(ledger()));
}

TEST_F(ScopeTest, UntrackedScopesRecordNothing) {
    Scope s("svc", {.monitor = &monitor(), .track = false});
    Scope c = s.child("child");
    c.adopt({"a"}, Probe(log_, "a"));
    EXPECT_TRUE(testing::nothing_live(ledger()));
    EXPECT_FALSE(c.track({"t"}).active());
    s.close();
    EXPECT_EQ(log_.events(), (V{"close a"}));
}

TEST_F(ScopeTest, MoveAssignmentClosesTheScopeItHeld) {
    Scope a("a", opts());
    a.adopt({"a1"}, Probe(log_, "a1"));
    Scope b("b", opts());
    b.adopt({"b1"}, Probe(log_, "b1"));
    a = std::move(b);
    EXPECT_EQ(log_.events(), (V{"close a1"}));
    EXPECT_EQ(a.path(), "b");
    a.close();
    EXPECT_EQ(log_.events(), (V{"close a1", "close b1"}));
}

TEST_F(ScopeTest, ClosingAChildAloneLeavesTheParentOpen) {
    Scope svc("svc", opts());
    svc.adopt({"p"}, Probe(log_, "p"));
    {
        Scope task = svc.child("task-1", {.level = ScopeLevel::task});
        task.adopt({"t"}, Probe(log_, "t"));
    }
    EXPECT_EQ(log_.events(), (V{"close t"}));
    EXPECT_FALSE(svc.closed());
    svc.close();
    EXPECT_EQ(log_.events(), (V{"close t", "close p"}));
}

}  // namespace
}  // namespace scopeflow
