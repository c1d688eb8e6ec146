// Walks every fault point of a three-resource scope: whatever fails, nothing is left behind.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>

#include "support/eventually.h"
#include "support/leak_check.h"
#include "support/probe.h"

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
        EXPECT_TRUE(testing::nothing_live(iso_.ledger));
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
        (void)testing::eventually([&] { return iso_.ledger.live_total() == 0; }, 5s, 5ms);
        std::this_thread::sleep_for(10ms);  // let an abandoned worker leave the ledger
        EXPECT_TRUE(testing::nothing_live(iso_.ledger));
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
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
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
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    EXPECT_EQ(count_open_fds(), fds_before);
}

TEST(FaultInjectorTest, WildcardNthFiresOnceAtTheKthHitOverAllPoints) {
    FaultInjector faults;
    faults.set_recording(true);
    faults.arm({.phase = FaultPhase::use, .point = "*", .nth = 3});
    std::vector<std::string> thrown;
    for (const char* point : {"a", "b", "c", "a", "a", "b", "b", "c", "c"}) {
        try {
            faults.hit(FaultPhase::use, point);
        } catch (const InjectedFault&) {
            thrown.emplace_back(point);
        }
    }
    faults.hit(FaultPhase::acquire, "a");                // other phases are counted apart
    EXPECT_EQ(thrown, (std::vector<std::string>{"c"}));  // the 3rd hit overall, and only it
    EXPECT_EQ(faults.fired(), 1U);
    const auto trace = faults.trace();
    ASSERT_EQ(trace.size(), 10U);
    EXPECT_EQ(trace[2].phase_ordinal, 3U);
    EXPECT_EQ(trace[2].ordinal, 1U);
    EXPECT_EQ(trace[4].point, "a");
    EXPECT_EQ(trace[4].ordinal, 3U);
    EXPECT_EQ(trace[9].phase_ordinal, 1U);
}

TEST(FaultInjectorTest, NamedNthFiresOnceAtThatPointsKthHit) {
    FaultInjector faults;
    faults.arm({.phase = FaultPhase::use, .point = "b", .nth = 2});
    int thrown = 0;
    for (const char* point : {"a", "b", "a", "a", "b", "b", "b"}) {
        try {
            faults.hit(FaultPhase::use, point);
        } catch (const InjectedFault& e) {
            ++thrown;
            EXPECT_NE(std::string(e.what()).find("use 'b' #2"), std::string::npos);
        }
    }
    EXPECT_EQ(thrown, 1);
}

// Which ordinals of each point fired, for one seed, when the points are hit in `order`.
std::vector<std::set<std::uint64_t>> fired_ordinals(std::uint64_t seed,
                                                    const std::vector<int>& order) {
    const std::vector<std::string> points{"alpha", "beta", "gamma"};
    FaultInjector faults(seed);
    faults.arm({.phase = FaultPhase::use, .point = "*", .probability = 0.2});
    std::vector<std::set<std::uint64_t>> fired(points.size());
    std::vector<std::uint64_t> seen(points.size(), 0);
    for (const int p : order) {
        const std::uint64_t ordinal = ++seen[static_cast<std::size_t>(p)];
        try {
            faults.hit(FaultPhase::use, points[static_cast<std::size_t>(p)]);
        } catch (const InjectedFault&) {
            fired[static_cast<std::size_t>(p)].insert(ordinal);
        }
    }
    return fired;
}

TEST(FaultInjectorTest, OneSeedInjectsTheSameFailuresPerPointWhateverTheInterleaving) {
    constexpr int kHits = 300;
    std::vector<int> sequential;  // alpha's hits, then beta's, then gamma's
    std::vector<int> reversed;    // gamma, beta, alpha
    std::vector<int> interleaved;
    for (int p = 0; p < 3; ++p) {
        sequential.insert(sequential.end(), kHits, p);
        reversed.insert(reversed.end(), kHits, 2 - p);
    }
    for (int i = 0; i < kHits; ++i) {
        for (int p : {1, 0, 2}) {
            interleaved.push_back(p);
        }
    }
    const auto a = fired_ordinals(42, sequential);
    EXPECT_EQ(fired_ordinals(42, reversed), a);
    EXPECT_EQ(fired_ordinals(42, interleaved), a);
    for (const auto& per_point : a) {
        EXPECT_GT(per_point.size(), 20U);  // ~60 of 300 at 20%
        EXPECT_LT(per_point.size(), 110U);
    }
    EXPECT_NE(a[0], a[1]);                         // each point has its own stream
    EXPECT_NE(fired_ordinals(43, sequential), a);  // and the seed matters
}

TEST(FaultInjectorTest, ThreadsWithOneSeedReproduceTheirFailures) {
    // Each thread hits its own point; the OS interleaves them differently every run.
    auto run = [](std::uint64_t seed) {
        FaultInjector faults(seed);
        faults.arm({.phase = FaultPhase::use, .point = "*", .probability = 0.1});
        std::vector<std::vector<std::uint64_t>> fired(4);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < fired.size(); ++t) {
            threads.emplace_back([&faults, &fired, t] {
                const std::string point = "worker-" + std::to_string(t);
                for (std::uint64_t i = 1; i <= 500; ++i) {
                    try {
                        faults.hit(FaultPhase::use, point);
                    } catch (const InjectedFault&) {
                        fired[t].push_back(i);
                    }
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        return fired;
    };
    const auto first = run(7);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(run(7), first);
    }
}

}  // namespace
}  // namespace scopeflow
