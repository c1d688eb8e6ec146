// Access to the real PostgreSQL and Redis servers that scripts/test-servers starts for the suite.
//
//   TEST(Pg, Works) {
//       SCOPEFLOW_NEED_POSTGRES();                  // skip, or fail under scripts/test
//       const auto& pg = scopeflow::testing::servers().pg;
//       ...
//       scopeflow::testing::servers_command("restart-postgres");
//   }
//
// Without the servers' environment a test is skipped, unless SCOPEFLOW_TEST_REQUIRE_SERVERS=1
// (set by scripts/test), where it fails: CI must never pass by skipping.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace scopeflow::testing {

struct PgServer {
    std::string host, port, user, db, password;
    bool available = false;
};
struct RedisServer {
    std::string host, port, password;
    bool available = false;
};
struct Servers {
    PgServer pg;
    RedisServer redis;
    std::string control;  // "scripts/test-servers DIR"
    bool required = false;
};

inline std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, at start
    return v == nullptr ? std::string() : std::string(v);
}

inline const Servers& servers() {
    static const Servers s = [] {
        Servers r;
        r.pg = {env_or_empty("SCOPEFLOW_TEST_PG_HOST"),     env_or_empty("SCOPEFLOW_TEST_PG_PORT"),
                env_or_empty("SCOPEFLOW_TEST_PG_USER"),     env_or_empty("SCOPEFLOW_TEST_PG_DB"),
                env_or_empty("SCOPEFLOW_TEST_PG_PASSWORD"), false};
        r.pg.available = !r.pg.host.empty() && !r.pg.port.empty();
        r.redis = {env_or_empty("SCOPEFLOW_TEST_REDIS_HOST"),
                   env_or_empty("SCOPEFLOW_TEST_REDIS_PORT"),
                   env_or_empty("SCOPEFLOW_TEST_REDIS_PASSWORD"), false};
        r.redis.available = !r.redis.host.empty() && !r.redis.port.empty();
        r.control = env_or_empty("SCOPEFLOW_TEST_SERVERS");
        r.required = env_or_empty("SCOPEFLOW_TEST_REQUIRE_SERVERS") == "1";
        return r;
    }();
    return s;
}

// Runs `scripts/test-servers <command> DIR` (restart-postgres, restart-redis, stop-postgres,
// start-postgres, ...). Throws when it fails.
inline void servers_command(const std::string& command) {
    const auto& s = servers();
    if (s.control.empty()) {
        throw std::runtime_error("SCOPEFLOW_TEST_SERVERS is not set");
    }
    const auto space = s.control.find(' ');
    const std::string cmd =
        s.control.substr(0, space) + " " + command + " " + s.control.substr(space + 1);
    if (std::system(cmd.c_str()) != 0) {  // NOLINT(concurrency-mt-unsafe,cert-env33-c)
        throw std::runtime_error("failed: " + cmd);
    }
}

}  // namespace scopeflow::testing

#define SCOPEFLOW_NEED_SERVER_(avail, what)                                    \
    do {                                                                       \
        if (!(avail)) {                                                        \
            if (::scopeflow::testing::servers().required) {                    \
                FAIL() << what                                                 \
                    " is required (SCOPEFLOW_TEST_REQUIRE_SERVERS=1) but its " \
                    "environment is not set; run scripts/test or "             \
                    "scripts/test-servers";                                    \
            }                                                                  \
            GTEST_SKIP() << what                                               \
                " not available: run under scripts/test, or "                  \
                "`scripts/test-servers start DIR && source DIR/env`";          \
        }                                                                      \
    } while (false)

#define SCOPEFLOW_NEED_POSTGRES() \
    SCOPEFLOW_NEED_SERVER_(::scopeflow::testing::servers().pg.available, "PostgreSQL")
#define SCOPEFLOW_NEED_REDIS() \
    SCOPEFLOW_NEED_SERVER_(::scopeflow::testing::servers().redis.available, "Redis")
