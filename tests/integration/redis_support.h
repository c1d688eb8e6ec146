// Shared set-up for the Redis tests: connection options for the test server, a private ledger.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/core/ledger.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/secret.h>

#include "integration/server_support.h"

namespace scopeflow::testing {

inline redis::ConnectionOptions redis_options(int db = 0) {
    const auto& r = servers().redis;
    return {.host = r.host,
            .port = std::stoi(r.port),
            .password = Secret(r.password),
            .db = db,
            .connect_timeout = std::chrono::milliseconds(2000),
            .command_timeout = std::chrono::milliseconds(5000)};
}

// A private ledger and monitor, and a root scope on them; TearDown proves nothing leaked.
class RedisTest : public ::testing::Test {
protected:
    void SetUp() override { SCOPEFLOW_NEED_REDIS(); }
    void TearDown() override {
        root_.close();
        EXPECT_EQ(ledger_.snapshot().live_total(), 0U) << "resources still live in the ledger";
    }

    Ledger ledger_;
    ResourceMonitor monitor_{ledger_, {.log_to_stderr = false}};
    Scope root_{"test", {.monitor = &monitor_}};
};

}  // namespace scopeflow::testing
