// Close deadlines: stuck cleanups are reported on time, abandoned, and the close goes on.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "support/eventually.h"
#include "support/leak_check.h"
#include "support/probe.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::EventLog;
using testing::Probe;
using V = std::vector<std::string>;

// Generous for sanitizer builds on a loaded 2-core machine, small next to the hang itself.
constexpr auto kTolerance = 400ms;

// testing::eventually, then a moment more: an abandoned worker's last touch of the ledger is its
// release; this gives it time to leave Ledger::release() before the test's private ledger is
// destroyed.
template <typename Pred>
bool eventually_settled(Pred pred) {
    (void)testing::eventually(pred, 5000ms, 5ms);
    std::this_thread::sleep_for(20ms);
    return pred();
}

class ScopeDeadlineTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    EventLog log_;
};

TEST_F(ScopeDeadlineTest, StuckCleanupIsReportedWithinItsDeadlineAndCloseGoesOn) {
    std::promise<void> unblock;
    std::shared_future<void> unblocked = unblock.get_future().share();
    Clock::time_point reported_at{};
    std::mutex mu;
    iso_.monitor.set_sink([&](const Report& r) {
        if (r.kind == ReportKind::stuck) {
            std::lock_guard lock(mu);
            reported_at = Clock::now();
        }
    });
    constexpr auto kDeadline = 150ms;
    Scope svc("service", {.monitor = &iso_.monitor, .close_timeout = kDeadline});
    Scope stage = svc.child("upload");
    stage.adopt({"first"}, Probe(log_, "first"));
    stage.defer({"stuck-socket", ResourceKind::socket}, [unblocked] { unblocked.wait(); });
    stage.adopt({"last"}, Probe(log_, "last"));

    const auto start = Clock::now();
    try {
        svc.close();
        FAIL() << "close() should report the stuck cleanup";
    } catch (const CloseError& e) {
        ASSERT_EQ(e.failures().size(), 1U);
        const CleanupFailure& f = e.primary();
        EXPECT_TRUE(f.stuck);
        EXPECT_EQ(f.scope_path, "service/upload");
        EXPECT_EQ(f.resource, "stuck-socket");
        EXPECT_GE(f.elapsed, kDeadline);
        EXPECT_NE(std::string(e.what()).find("stuck-socket"), std::string::npos);
    }
    const auto took = Clock::now() - start;
    EXPECT_LT(took, kDeadline + kTolerance);
    {
        std::lock_guard lock(mu);
        ASSERT_NE(reported_at, Clock::time_point{});
        EXPECT_LT(reported_at - start, kDeadline + kTolerance);
    }
    // The close went on with the rest, in order.
    EXPECT_EQ(log_.events(), (V{"close last", "close first"}));
    EXPECT_TRUE(svc.closed());
    // The stuck resource is still live (and flagged) until its cleanup returns.
    LedgerSnapshot snap = iso_.ledger.snapshot();
    ASSERT_EQ(snap.entries.size(), 1U);
    EXPECT_EQ(snap.entries[0].name, "stuck-socket");
    EXPECT_TRUE(snap.entries[0].stuck);
    const Report stuck = iso_.monitor.recent().at(0);
    EXPECT_EQ(stuck.kind, ReportKind::stuck);
    EXPECT_EQ(stuck.scope_path, "service/upload");
    EXPECT_GE(stuck.elapsed, kDeadline);

    unblock.set_value();
    EXPECT_TRUE(eventually_settled([&] { return iso_.ledger.live_total() == 0; }));
    EXPECT_TRUE(
        eventually_settled([&] { return iso_.monitor.count(ReportKind::late_release) == 1; }));
}

TEST_F(ScopeDeadlineTest, FastCleanupsUnderADeadlineAreNotReported) {
    Scope svc("svc", {.monitor = &iso_.monitor, .close_timeout = 2s});
    for (int i = 0; i < 10; ++i) {
        svc.adopt({"p"}, Probe(log_, "p" + std::to_string(i)));
    }
    svc.close();
    EXPECT_EQ(log_.events().size(), 10U);
    EXPECT_EQ(iso_.monitor.count(ReportKind::stuck), 0U);
}

TEST_F(ScopeDeadlineTest, ErrorsUnderADeadlineAreStillAggregated) {
    Scope svc("svc", {.monitor = &iso_.monitor, .close_timeout = 2s});
    svc.adopt({"a"}, Probe(log_, "a", true));
    svc.adopt({"b"}, Probe(log_, "b", true));
    try {
        svc.close();
        FAIL();
    } catch (const CloseError& e) {
        ASSERT_EQ(e.failures().size(), 2U);
        EXPECT_EQ(e.failures()[0].resource, "b");
        EXPECT_EQ(e.failures()[1].resource, "a");
    }
}

TEST_F(ScopeDeadlineTest, InjectedReleaseHangIsAbandonedAndLaterFinishes) {
    FaultInjector faults;
    faults.arm({.phase = FaultPhase::release,
                .point = "db",
                .nth = 1,
                .action = FaultAction::hang,
                .hang_for = 10s});
    Scope svc("svc", {.monitor = &iso_.monitor, .faults = &faults, .close_timeout = 100ms});
    svc.adopt({"db", ResourceKind::connection}, Probe(log_, "db"));
    svc.adopt({"file", ResourceKind::file}, Probe(log_, "file"));
    EXPECT_THROW(svc.close(), CloseError);
    EXPECT_EQ(log_.events(), (V{"close file"}));
    EXPECT_EQ(iso_.ledger.live(ResourceKind::connection).entries, 1U);
    faults.release_hangs();
    EXPECT_TRUE(eventually_settled([&] { return iso_.ledger.live_total() == 0; }));
    EXPECT_EQ(log_.events(), (V{"close file", "close db"}));
}

TEST_F(ScopeDeadlineTest, DestructorWithDeadlineDoesNotThrowAndReportsStuckOnce) {
    FaultInjector faults;
    faults.arm({.phase = FaultPhase::release,
                .point = "x",
                .nth = 1,
                .action = FaultAction::hang,
                .hang_for = 10s});
    {
        Scope s("svc", {.monitor = &iso_.monitor, .faults = &faults, .close_timeout = 50ms});
        s.adopt({"x"}, Probe(log_, "x"));
    }
    EXPECT_EQ(iso_.monitor.count(ReportKind::stuck), 1U);
    EXPECT_EQ(iso_.monitor.count(ReportKind::close_error), 0U);
    faults.release_hangs();
    EXPECT_TRUE(eventually_settled([&] { return iso_.ledger.live_total() == 0; }));
}

// Runs `body` on its own thread and fails the test if it has not returned within `limit`. A close
// that never returns cannot be joined or abandoned safely (it works on this test's objects), so a
// hang ends the test binary at once: a regression fails fast instead of hitting the CTest timeout.
void returns_within(std::chrono::milliseconds limit, const std::function<void()>& body) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    std::thread([done, &body] {
        try {
            body();
            done->set_value();
        } catch (...) {
            done->set_exception(std::current_exception());
        }
    }).detach();
    if (finished.wait_for(limit) != std::future_status::ready) {
        std::fprintf(stderr, "FAILED: close() did not return within %lld ms (hangs)\n",
                     static_cast<long long>(limit.count()));
        std::fflush(stderr);
        std::_Exit(1);
    }
    finished.get();  // rethrows what body threw
}

// Both ways of closing: inline (no deadline) and watched by a per-cleanup deadline.
const std::chrono::nanoseconds kCloseModes[] = {kNoCloseTimeout, 2s};

// A resource whose close() closes the scope that owns it.
struct ClosesItsOwner {
    Scope* owner;
    EventLog* log;
    ClosesItsOwner(Scope* o, EventLog* l)
        : owner(o),
          log(l) {}
    ClosesItsOwner(ClosesItsOwner&& other) noexcept
        : owner(std::exchange(other.owner, nullptr)),
          log(other.log) {}
    ClosesItsOwner(const ClosesItsOwner&) = delete;
    ClosesItsOwner& operator=(const ClosesItsOwner&) = delete;
    ClosesItsOwner& operator=(ClosesItsOwner&&) = delete;
    ~ClosesItsOwner() = default;
    void close() {
        if (owner != nullptr) {
            owner->close();
            log->add("nested close returned");
        }
    }
};

TEST_F(ScopeDeadlineTest, CloseFromItsOwnCleanupIsANoOpAndTheOuterCloseFinishes) {
    for (const auto mode : kCloseModes) {
        SCOPED_TRACE(mode.count());
        EventLog log;
        Scope svc("svc", {.monitor = &iso_.monitor, .close_timeout = mode});
        svc.adopt({"first"}, Probe(log, "first"));
        svc.defer({"closer"}, [&] {
            svc.close();
            svc.close(1s);  // an explicit deadline is nested all the same
            log.add("nested close returned");
        });
        svc.adopt({"last"}, Probe(log, "last"));
        returns_within(5s, [&] { svc.close(); });
        EXPECT_TRUE(svc.closed());
        EXPECT_EQ(log.events(), (V{"close last", "nested close returned", "close first"}));
    }
    EXPECT_EQ(iso_.monitor.count(ReportKind::stuck), 0U);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(ScopeDeadlineTest, ChildCleanupClosingItsParentDoesNotHang) {
    for (const auto mode : kCloseModes) {
        SCOPED_TRACE(mode.count());
        // The parent's close reaches the child, whose cleanup closes the parent again: a no-op.
        {
            EventLog log;
            Scope parent("parent", {.monitor = &iso_.monitor, .close_timeout = mode});
            parent.adopt({"parent-res"}, Probe(log, "parent-res"));
            Scope child = parent.child("child");
            child.defer({"closes-parent"}, [&] {
                parent.close();
                log.add("nested close returned");
            });
            returns_within(5s, [&] { parent.close(); });
            EXPECT_TRUE(parent.closed());
            EXPECT_TRUE(child.closed());
            EXPECT_EQ(log.events(), (V{"nested close returned", "close parent-res"}));
        }
        // The child is closed first, on its own: its cleanup's close of the parent closes the
        // parent's other children and resources, skips the child (its close is under way) and
        // returns; then the child's close finishes.
        {
            EventLog log;
            Scope parent("parent", {.monitor = &iso_.monitor, .close_timeout = mode});
            parent.adopt({"parent-res"}, Probe(log, "parent-res"));
            Scope sibling = parent.child("sibling");
            sibling.adopt({"sibling-res"}, Probe(log, "sibling-res"));
            Scope child = parent.child("child");
            child.adopt({"child-first"}, Probe(log, "child-first"));
            child.defer({"closes-parent"}, [&] {
                parent.close();
                log.add("nested close returned");
            });
            returns_within(5s, [&] { child.close(); });
            EXPECT_TRUE(parent.closed());
            EXPECT_TRUE(sibling.closed());
            EXPECT_TRUE(child.closed());
            EXPECT_EQ(log.events(), (V{"close sibling-res", "close parent-res",
                                       "nested close returned", "close child-first"}));
            returns_within(5s, [&] { parent.close(); });  // idempotent afterwards
        }
    }
    EXPECT_EQ(iso_.monitor.count(ReportKind::stuck), 0U);
    EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0U);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(ScopeDeadlineTest, AdoptedResourceWhoseCloseClosesItsOwnerDoesNotHang) {
    for (const auto mode : kCloseModes) {
        SCOPED_TRACE(mode.count());
        EventLog log;
        Scope svc("svc", {.monitor = &iso_.monitor, .close_timeout = mode});
        svc.adopt({"first"}, Probe(log, "first"));
        svc.adopt({"closer"}, ClosesItsOwner(&svc, &log));
        returns_within(5s, [&] { svc.close(); });
        EXPECT_TRUE(svc.closed());
        EXPECT_EQ(log.events(), (V{"nested close returned", "close first"}));
        // Through the destructor too.
        EventLog log2;
        {
            Scope owner("owner", {.monitor = &iso_.monitor, .close_timeout = mode});
            owner.adopt({"closer"}, ClosesItsOwner(&owner, &log2));
            returns_within(5s, [&] { owner.close(); });
        }
        EXPECT_EQ(log2.events(), (V{"nested close returned"}));
    }
    EXPECT_EQ(iso_.monitor.count(ReportKind::stuck), 0U);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

}  // namespace
}  // namespace scopeflow
