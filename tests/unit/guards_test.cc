#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/core/timing_scope.h>
#include <scopeflow/core/unique_function.h>
#include <scopeflow/core/work_scope.h>

#include "support/leak_check.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

TEST(ScopeGuardTest, RunsOnNormalExitAndOnException) {
    int runs = 0;
    {
        ScopeGuard g([&] { ++runs; });
    }
    EXPECT_EQ(runs, 1);
    try {
        ScopeGuard g([&] { ++runs; });
        throw std::runtime_error("x");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(runs, 2);
}

TEST(ScopeGuardTest, CancelDisarmsAndFireRunsOnce) {
    int runs = 0;
    {
        ScopeGuard g([&] { ++runs; });
        g.cancel();
        EXPECT_FALSE(g.armed());
    }
    EXPECT_EQ(runs, 0);
    {
        ScopeGuard g([&] { ++runs; });
        g.fire();
        g.fire();
    }
    EXPECT_EQ(runs, 1);
}

TEST(ScopeGuardTest, MovingTransfersTheDuty) {
    int runs = 0;
    {
        ScopeGuard a([&] { ++runs; });
        ScopeGuard b(std::move(a));
        EXPECT_FALSE(a.armed());  // NOLINT(bugprone-use-after-move): testing the moved-from state
    }
    EXPECT_EQ(runs, 1);
}

TEST(ScopeGuardTest, ThrowingCleanupDuringUnwindingDoesNotTerminate) {
    try {
        ScopeGuard g([] { throw std::logic_error("cleanup"); });
        throw std::runtime_error("body");
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "body");
    }
}

class WorkScopeTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    std::vector<std::string> log_;
};

TEST_F(WorkScopeTest, CommitRunsOnlyTheCommitAction) {
    {
        WorkScope w(
            "batch", [&] { log_.push_back("ack"); }, [&] { log_.push_back("nack"); });
        w.commit();
        EXPECT_EQ(w.state(), WorkScope::State::committed);
    }
    EXPECT_EQ(log_, (std::vector<std::string>{"ack"}));
}

TEST_F(WorkScopeTest, UncommittedWorkRollsBackOnEveryPath) {
    {
        WorkScope w(
            "forgotten", [&] { log_.push_back("ack"); }, [&] { log_.push_back("nack"); });
    }
    try {
        WorkScope w(
            "failing", [&] { log_.push_back("ack"); }, [&] { log_.push_back("nack"); });
        throw std::runtime_error("sink down");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(log_, (std::vector<std::string>{"nack", "nack"}));
}

TEST_F(WorkScopeTest, FailedCommitRollsBackAndPropagatesWithRollbackErrorAttached) {
    try {
        WorkScope w(
            "batch", [] { throw TransientError("ack failed"); },
            [] { throw std::runtime_error("nack failed too"); });
        w.commit();
        FAIL();
    } catch (const TransientError& e) {
        EXPECT_STREQ(e.what(), "ack failed");
        ASSERT_EQ(e.suppressed().size(), 1U);
        EXPECT_EQ(message_of(e.suppressed()[0]), "nack failed too");
    }
}

TEST_F(WorkScopeTest, RollbackFailureInTheDestructorIsReportedNotThrown) {
    {
        WorkScope w(
            "batch", nullptr, [] { throw std::runtime_error("nack failed"); }, &iso_.monitor);
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::close_error), 1U);
    EXPECT_NE(iso_.monitor.recent()[0].message.find("nack failed"), std::string::npos);
}

TEST_F(WorkScopeTest, CommitTwiceIsAnError) {
    WorkScope w("batch", nullptr, nullptr);
    w.commit();
    EXPECT_THROW(w.commit(), Error);
}

TEST(TimingScopeTest, RecordsOnEveryExitPathIntoTheRightHistogram) {
    Histogram ok;
    Histogram failed;
    {
        TimingScope t(ok, &failed);
        std::this_thread::sleep_for(2ms);
    }
    try {
        TimingScope t(ok, &failed);
        throw std::runtime_error("x");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(ok.count(), 1U);
    EXPECT_EQ(failed.count(), 1U);
    EXPECT_GE(ok.snapshot().max_ns, 2'000'000U);
}

TEST(TimingScopeTest, StopRecordsOnceAndReturnsTheDuration) {
    Histogram h;
    {
        TimingScope t(h);
        const auto d = t.stop();
        EXPECT_GE(d.count(), 0);
        EXPECT_EQ(t.stop(), d);
    }
    EXPECT_EQ(h.count(), 1U);
}

TEST(HistogramTest, BucketsAreContiguousAndBoundsContainTheirValues) {
    for (std::uint64_t v :
         {0ULL, 1ULL, 7ULL, 8ULL, 15ULL, 16ULL, 17ULL, 1000ULL, 123456789ULL, (1ULL << 40U) - 1U}) {
        const std::size_t b = Histogram::bucket_of(v);
        EXPECT_GE(Histogram::bucket_upper_bound(b), v) << v;
        if (b > 0) {
            EXPECT_LT(Histogram::bucket_upper_bound(b - 1), v) << v;
        }
    }
}

TEST(HistogramTest, QuantilesAreWithinOneEighth) {
    Histogram h;
    for (int i = 1; i <= 1000; ++i) {
        h.record(std::chrono::microseconds(i));
    }
    const auto s = h.snapshot();
    EXPECT_EQ(s.count, 1000U);
    const double p50 = static_cast<double>(s.quantile(0.5));
    const double p99 = static_cast<double>(s.quantile(0.99));
    EXPECT_NEAR(p50, 500'000.0, 500'000.0 / 8);
    EXPECT_NEAR(p99, 990'000.0, 990'000.0 / 8);
    EXPECT_EQ(s.quantile(1.0), 1'000'000U);
    EXPECT_NEAR(s.mean_ns(), 500'500.0, 1.0);
}

TEST(UniqueFunctionTest, HoldsMoveOnlyCapturesInlineAndLargeOnesOnTheHeap) {
    auto p = std::make_unique<int>(7);
    UniqueFunction<int()> small = [p = std::move(p)] { return *p; };
    EXPECT_EQ(small(), 7);
    std::array<char, 200> big{};
    big[199] = 'z';
    UniqueFunction<char()> large = [big] { return big[199]; };
    UniqueFunction<char()> moved = std::move(large);
    EXPECT_FALSE(static_cast<bool>(large));  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved(), 'z');
    UniqueFunction<int(int, int)> add = [](int a, int b) { return a + b; };
    EXPECT_EQ(add(2, 3), 5);
}

}  // namespace
}  // namespace scopeflow
