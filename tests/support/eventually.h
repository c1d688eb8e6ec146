// eventually(): polls a condition until it holds or a timeout passes, instead of a fixed sleep.
//
//   EXPECT_TRUE(testing::eventually([&] { return pool->stats().idle == 1; }));
//   ASSERT_TRUE(testing::eventually([&] { return sunk >= 300; }, 30s));
#pragma once

#include <chrono>
#include <thread>

namespace scopeflow::testing {

// Polls `pred` every `poll` until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool eventually(Pred&& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return static_cast<bool>(pred());
        }
        std::this_thread::sleep_for(poll);
    }
    return true;
}

}  // namespace scopeflow::testing
