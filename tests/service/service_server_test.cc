// The demo against a real PostgreSQL server (scripts/test-servers): DatabaseReader on
// PostgreSQL instead of SQLite, with and without failures.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "integration/server_support.h"
#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

TEST(ServiceServerTest, DemoOnPostgresAccountsForEveryOrder) {
    SCOPEFLOW_NEED_POSTGRES();
    const auto& pg = servers().pg;
    ::setenv("SCOPEFLOW_DEMO_PG_PASSWORD", pg.password.c_str(), 1);
    TempDir d;
    Service svc({"demo", "--rows", "2000", "--simulate-failures=5", "--postgres",
                 pg.host + ":" + pg.port + "/" + pg.db + "/" + pg.user, "--postgres-password-env",
                 "SCOPEFLOW_DEMO_PG_PASSWORD"},
                d / "log");
    ASSERT_EQ(svc.wait(), 0) << svc.log() << read_file((d / "log").string() + ".out");
    const std::string out = read_file((d / "log").string() + ".out");
    EXPECT_NE(out.find("every order accounted for   yes"), std::string::npos) << out;
    EXPECT_NE(svc.log().find("orders in PostgreSQL"), std::string::npos) << svc.log();
    EXPECT_EQ(svc.log().find(pg.password), std::string::npos);  // never logged
    EXPECT_EQ(out.find(pg.password), std::string::npos);
}

}  // namespace
}  // namespace scopeflow::testing
