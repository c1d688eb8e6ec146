// Walks every fault point of a three-resource scope: whatever fails, nothing is left behind.
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>

#include <scopeflow/error.h>
#include <scopeflow/fault_injector.h>
#include <scopeflow/scope.h>
#include <scopeflow/unique_fd.h>

#include "unit/test_support.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::count_open_fds;

class FaultInjectionTest : public ::testing::Test {
protected:
    // Three real descriptors: a "db" socket stand-in, a file, and a pipe; each used once.
    void scenario(FaultInjector& faults, std::chrono::nanoseconds close_timeout = {}) {
        Scope svc("service",
                  {.monitor = &iso_.monitor, .faults = &faults, .close_timeout = close_timeout});
        Scope stage = svc.child("stage", {.close_timeout = close_timeout});
        stage.run([](Scope& s) {
            auto& db = s.open({"db", ResourceKind::connection},
                              [] { return UniqueFd::open("/dev/null", O_RDWR); });
            auto& file = s.open({"file", ResourceKind::file},
                                [] { return UniqueFd::open("/dev/zero", O_RDONLY); });
            auto& pipe = s.open({"pipe", ResourceKind::socket}, [] { return UniqueFd::pipe(); });
            s.fault_point("db");
            ASSERT_TRUE(db.valid());
            s.fault_point("file");
            ASSERT_TRUE(file.valid());
            s.fault_point("pipe");
            ASSERT_TRUE(pipe.first.valid());
        });
        svc.close();
    }

    testing::Isolated iso_;
};

TEST_F(FaultInjectionTest, RecordingFindsEveryAcquireUseAndReleasePoint) {
    const auto hits = FaultInjector::record([this](FaultInjector& f) { scenario(f); });
    ASSERT_EQ(hits.size(), 9U);
    EXPECT_EQ(hits[0].phase, FaultPhase::acquire);
    EXPECT_EQ(hits[0].point, "db");
    EXPECT_EQ(hits[3].phase, FaultPhase::use);
    EXPECT_EQ(hits[6].phase, FaultPhase::release);
    EXPECT_EQ(hits[6].point, "pipe");  // released in reverse order
    EXPECT_EQ(hits[8].point, "db");
}

TEST_F(FaultInjectionTest, ThrowAtEveryPointLeavesNothingLive) {
    const int fds_before = count_open_fds();
    const auto hits = FaultInjector::record([this](FaultInjector& f) { scenario(f); });
    for (const FaultHit& h : hits) {
        SCOPED_TRACE(std::string(to_string(h.phase)) + " " + h.point);
        FaultInjector faults;
        faults.arm({.phase = h.phase, .point = h.point, .nth = h.ordinal});
        bool threw = false;
        try {
            scenario(faults);
        } catch (const InjectedFault&) {
            threw = h.phase != FaultPhase::release;
        } catch (const CloseError& e) {
            threw = h.phase == FaultPhase::release;
            EXPECT_EQ(e.primary().resource, h.point);
        }
        EXPECT_TRUE(threw) << "the failure surfaced as the right error";
        EXPECT_EQ(faults.fired(), 1U);
        EXPECT_EQ(iso_.ledger.live_total(), 0U);
        EXPECT_EQ(count_open_fds(), fds_before);
    }
}

TEST_F(FaultInjectionTest, HangAtEveryPointIsBoundedAndLeavesNothingLive) {
    const int fds_before = count_open_fds();
    const auto hits = FaultInjector::record([this](FaultInjector& f) { scenario(f); });
    for (const FaultHit& h : hits) {
        SCOPED_TRACE(std::string(to_string(h.phase)) + " " + h.point);
        FaultInjector faults;
        // Acquire/use hangs end after 30ms and continue; release hangs outlast the 20ms close
        // deadline and are abandoned, finishing later on their own thread.
        faults.arm({.phase = h.phase,
                    .point = h.point,
                    .nth = h.ordinal,
                    .action = FaultAction::hang,
                    .hang_for = 30ms});
        try {
            scenario(faults, 20ms);
            EXPECT_NE(h.phase, FaultPhase::release);
        } catch (const CloseError& e) {
            EXPECT_EQ(h.phase, FaultPhase::release);
            EXPECT_TRUE(e.primary().stuck);
        }
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (iso_.ledger.live_total() != 0 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(5ms);
        }
        std::this_thread::sleep_for(10ms);  // let an abandoned worker leave the ledger
        EXPECT_EQ(iso_.ledger.live_total(), 0U);
        EXPECT_EQ(count_open_fds(), fds_before);
    }
}

TEST_F(FaultInjectionTest, AcquireHangIsCancelledByStop) {
    FaultInjector faults;
    faults.arm(
        {.phase = FaultPhase::acquire, .point = "slow", .nth = 1, .action = FaultAction::hang});
    Scope svc("svc", {.monitor = &iso_.monitor, .faults = &faults});
    std::thread stopper([&] {
        std::this_thread::sleep_for(30ms);
        svc.request_stop();
    });
    EXPECT_THROW(svc.open({"slow"}, [] { return UniqueFd::open("/dev/null", O_RDONLY); }),
                 CancelledError);
    stopper.join();
    EXPECT_EQ(iso_.ledger.live_total(), 0U);
}

TEST_F(FaultInjectionTest, SeededRandomFaultsAreReproducibleAndNeverLeak) {
    const int fds_before = count_open_fds();
    auto run = [&](std::uint64_t seed) {
        FaultInjector faults(seed);
        for (FaultPhase p : {FaultPhase::acquire, FaultPhase::use, FaultPhase::release}) {
            faults.arm({.phase = p, .point = "*", .probability = 0.15});
        }
        int failures = 0;
        for (int i = 0; i < 100; ++i) {
            try {
                scenario(faults);
            } catch (const Error&) {
                ++failures;
            }
        }
        return std::pair{failures, faults.fired()};
    };
    const auto first = run(42);
    const auto again = run(42);
    EXPECT_EQ(first, again);
    EXPECT_GT(first.first, 10);
    EXPECT_LT(first.first, 100);
    EXPECT_EQ(iso_.ledger.live_total(), 0U);
    EXPECT_EQ(count_open_fds(), fds_before);
}

}  // namespace
}  // namespace scopeflow
