#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/engine/gate.h>

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

TEST(GateTest, RefusesAfterCloseAndWaitsForInFlight) {
    Gate gate;
    auto pass = gate.try_enter();
    ASSERT_TRUE(pass.has_value());
    EXPECT_EQ(gate.in_flight(), 1U);
    gate.close();
    EXPECT_FALSE(gate.try_enter().has_value());
    EXPECT_FALSE(gate.wait_idle(std::chrono::steady_clock::now() + 20ms));
    std::thread leaver([p = std::move(*pass)]() mutable {
        std::this_thread::sleep_for(20ms);
        auto done = std::move(p);  // leaves at the end of this block
    });
    pass.reset();
    EXPECT_TRUE(gate.wait_idle(std::chrono::steady_clock::now() + 5s));
    leaver.join();
    EXPECT_EQ(gate.in_flight(), 0U);
}

TEST(GateTest, WaitIdleNeedsClose) {
    Gate gate;
    EXPECT_FALSE(gate.wait_idle(std::chrono::steady_clock::now() + 10ms));
    gate.close();
    EXPECT_TRUE(gate.wait_idle(std::chrono::steady_clock::now() + 10ms));
}

}  // namespace
}  // namespace scopeflow
