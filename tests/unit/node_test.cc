#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/node.h>
#include <scopeflow/event/event.h>

#include "support/leak_check.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

// exec fails `failures` times with `E`, then returns the key doubled.
template <typename E>
class Flaky final : public NodeStage<std::int64_t, std::int64_t> {
public:
    Flaky(int failures, RetryPolicy policy, bool with_fallback = false)
        : NodeStage("flaky", policy),
          failures_(failures),
          with_fallback_(with_fallback) {}
    int attempts = 0;

protected:
    std::int64_t prep(Event& e, TaskContext&) override { return e.get_int("n").value_or(0); }
    std::int64_t exec(std::int64_t& n) override {
        ++attempts;
        if (attempts <= failures_) {
            throw E("attempt " + std::to_string(attempts) + " failed");
        }
        return n * 2;
    }
    ActionId post(Event& e, std::int64_t&, std::int64_t& r) override {
        e.set("doubled", Value(r));
        return kActionDefault;
    }
    std::int64_t fallback(std::int64_t& n, std::exception_ptr error) override {
        if (!with_fallback_) {
            std::rethrow_exception(error);
        }
        return -n;
    }

private:
    int failures_;
    bool with_fallback_;
};

class NodeTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    Scope worker_{"worker", {.monitor = &iso_.monitor}};
    TaskContext task_{worker_, 0, {}};
    Event event_{{"n", Value(std::int64_t{21})}};
};

TEST_F(NodeTest, TransientFailuresAreRetriedWithGrowingBackoff) {
    Flaky<TransientError> node(2, {.max_attempts = 3, .initial_backoff = 20ms, .jitter = 0.0});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(node.process(event_, task_), kActionDefault);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(node.attempts, 3);
    EXPECT_EQ(node.retries(), 2U);
    EXPECT_EQ(event_.get_int("doubled"), 42);
    EXPECT_GE(took, 60ms);  // 20ms, then 40ms
}

TEST_F(NodeTest, ExhaustedRetriesFallBackOrRethrow) {
    Flaky<TransientError> rethrows(5, {.max_attempts = 2, .initial_backoff = 1ms});
    EXPECT_THROW(rethrows.process(event_, task_), TransientError);
    EXPECT_EQ(rethrows.attempts, 2);
    Flaky<TransientError> falls_back(5, {.max_attempts = 2, .initial_backoff = 1ms}, true);
    EXPECT_EQ(falls_back.process(event_, task_), kActionDefault);
    EXPECT_EQ(event_.get_int("doubled"), -21);
}

TEST_F(NodeTest, NonTransientErrorsAreNotRetried) {
    Flaky<std::logic_error> node(1, {.max_attempts = 5, .initial_backoff = 1ms});
    EXPECT_THROW(node.process(event_, task_), std::logic_error);
    EXPECT_EQ(node.attempts, 1);
}

TEST(RetryPolicyTest, BackoffIsCappedAndJitterStaysInBounds) {
    const RetryPolicy p{
        .initial_backoff = 100ms, .multiplier = 3.0, .max_backoff = 500ms, .jitter = 0.25};
    EXPECT_EQ(p.backoff(2, 0.5), 100ms);
    EXPECT_EQ(p.backoff(3, 0.5), 300ms);
    EXPECT_EQ(p.backoff(4, 0.5), 500ms);  // capped
    EXPECT_EQ(p.backoff(2, 0.0), 75ms);
    EXPECT_EQ(p.backoff(2, 1.0), 125ms);
}

TEST_F(NodeTest, BackoffEndsEarlyOnStop) {
    std::stop_source stop;
    TaskContext task(worker_, 0, stop.get_token());
    Flaky<TransientError> node(5, {.max_attempts = 5, .initial_backoff = 10s});
    std::jthread stopper([&] {
        std::this_thread::sleep_for(30ms);
        stop.request_stop();
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(node.process(event_, task), CancelledError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace scopeflow
