// Shared set-up for the Redis tests: connection options for the test server, a private ledger.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/core/secret.h>
#include <scopeflow/redis/connection.h>

#include "integration/server_support.h"
#include "support/leak_check.h"

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
class RedisTest : public LeakCheckedTest {
protected:
    void SetUp() override { SCOPEFLOW_NEED_REDIS(); }
};

}  // namespace scopeflow::testing
