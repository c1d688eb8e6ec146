// LogLimiter: the first occurrence of a key at once, then at most one line per interval with
// the count held back, and what is owed handed out by due(); the counts add up.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/engine/log.h>
#include <scopeflow/engine/log_limiter.h>

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = LogLimiter::Clock;

TEST(LogLimiterTest, FirstAtOnceThenOneLinePerIntervalCarryingTheCount) {
    LogLimiter limiter(10s);
    const Clock::time_point t0{};
    EXPECT_EQ(limiter.hit("a", "first", t0), 1U);
    EXPECT_FALSE(limiter.owing());
    for (int i = 0; i < 999; ++i) {
        EXPECT_EQ(limiter.hit("a", "storm " + std::to_string(i), t0 + 1ms * i), 0U);
    }
    EXPECT_TRUE(limiter.owing());
    EXPECT_EQ(limiter.hit("b", "other key", t0 + 2s), 1U);  // keys are independent
    EXPECT_TRUE(limiter.due(t0 + 9s).empty());              // the interval has not passed
    // The next occurrence after the interval reports the ones held back, and itself.
    EXPECT_EQ(limiter.hit("a", "later", t0 + 10s), 1000U);
    EXPECT_EQ(limiter.hit("a", "held", t0 + 11s), 0U);
    EXPECT_EQ(limiter.hit("a", "held, last", t0 + 12s), 0U);
    const auto owed = limiter.due(t0 + 20s);
    ASSERT_EQ(owed.size(), 1U);
    EXPECT_EQ(owed[0].key, "a");
    EXPECT_EQ(owed[0].count, 2U);
    EXPECT_EQ(owed[0].last, "held, last");
    EXPECT_FALSE(limiter.owing());
    EXPECT_TRUE(limiter.due(t0 + 40s, true).empty());  // nothing left: every one was reported
}

TEST(LogLimiterTest, DueWithAllHandsOutWhatIsOwedBeforeTheInterval) {
    LogLimiter limiter(10s);
    const Clock::time_point t0{};
    (void)limiter.hit("k", "1", t0);
    (void)limiter.hit("k", "2", t0 + 1s);
    (void)limiter.hit("k", "3", t0 + 2s);
    EXPECT_TRUE(limiter.due(t0 + 3s).empty());
    const auto owed = limiter.due(t0 + 3s, true);  // the end of a run
    ASSERT_EQ(owed.size(), 1U);
    EXPECT_EQ(owed[0].count, 2U);
    EXPECT_EQ(owed[0].last, "3");
}

TEST(LogLimiterTest, ConcurrentHitsAreEachCountedOnce) {
    LogLimiter limiter(1h);
    constexpr int kThreads = 4;
    constexpr int kHits = 5000;
    std::vector<std::thread> threads;
    std::atomic<std::uint64_t> reported{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kHits; ++i) {
                reported += limiter.hit("storm", "x");
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(reported.load(), 1U);
    std::uint64_t owed = 0;
    for (const auto& o : limiter.due(Clock::now(), true)) {
        owed += o.count;
    }
    EXPECT_EQ(reported.load() + owed, static_cast<std::uint64_t>(kThreads * kHits));
}

TEST(LogTest, TheSinkReceivesEveryLevelAndTheDefaultCanBeRestored) {
    std::vector<std::pair<LogLevel, std::string>> got;
    set_log_sink([&](LogLevel level, std::string_view line) { got.emplace_back(level, line); });
    log(LogLevel::debug, "d");
    log(LogLevel::error, "e");
    set_log_sink({});
    log(LogLevel::info, "dropped by the default sink");
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1].first, LogLevel::error);
    EXPECT_EQ(got[1].second, "e");
    EXPECT_STREQ(to_string(LogLevel::warn), "warn");
}

}  // namespace
}  // namespace scopeflow
