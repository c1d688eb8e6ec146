// The service as one scope tree, run for real: every piece the binary starts is owned by the
// root scope "service" (the running pipeline by its child "gen-N"), /resources and the exit
// report show that tree, and every way out (SIGTERM, SIGINT, a failed start, a reload whose new
// pipeline cannot start) releases what started, in reverse, with nothing leaked.
#include <csignal>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/http/server.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

// The exit report's line for one generation: its pieces, released in reverse of their start.
const std::string kGeneration = "{ pipeline, source, resources, fault injector }";
const std::string kClean = "exit report: live resources 0, extra fds 0, child processes 0";

std::string endless_pipeline(const std::string& admin, const std::string& source) {
    return "service: {admin: '" + admin + "', shutdown_timeout: 10s}\n" +
           "resources:\n  db: {type: sqlite}\n" + "source: " + source + "\n" +
           "graph:\n  stages:\n    keep: {type: filter, field: seq, op: ge, value: 0}\n";
}

const std::string kGenerator = "{type: generator, count: 0}";

// A loopback port held by another listener for the test's duration.
class TakenPort {
public:
    TakenPort()
        : server_(options()) {
        server_.start();
    }
    [[nodiscard]] std::string address() const {
        return "127.0.0.1:" + std::to_string(server_.port());
    }

private:
    static http::ServerOptions options() {
        http::ServerOptions o;
        o.name = "taken";
        o.address = "127.0.0.1";
        o.port = 0;
        o.workers = 1;
        return o;
    }
    http::Server server_;
};

// The text after "exit report: released " up to the end of that line.
std::string released(const std::string& log) {
    const std::string key = "exit report: released ";
    const auto at = log.find(key);
    if (at == std::string::npos) {
        return "(no exit report)";
    }
    const auto start = at + key.size();
    return log.substr(start, log.find('\n', start) - start);
}

TEST(ServiceScopeTest, ResourcesAndTheExitReportShowOneTreeRootedAtTheService) {
    TempDir d;
    write_file(d / "p.yaml", endless_pipeline("127.0.0.1:0", kGenerator));
    Service svc({"run", "--monitor-resources", (d / "p.yaml").string()}, d / "log");
    const auto port = svc.admin_port();
    ASSERT_NE(port, 0) << svc.log();
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    const auto [status, body] = http_get(port, "/resources");
    ASSERT_EQ(status, 200);
    EXPECT_NE(body.find("\"tree\":[{\"scope\":\"service\",\"path\":\"service\""), std::string::npos)
        << body;
    EXPECT_NE(body.find("\"path\":\"service/gen-1\""), std::string::npos) << body;
    EXPECT_NE(body.find("\"path\":\"service/gen-1/main\""), std::string::npos) << body;
    svc.signal(SIGTERM);
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    // Children first (the running generation), then the service's own pieces in reverse.
    EXPECT_EQ(released(svc.log()), "service { gen-1 " + kGeneration +
                                       ", monitor, admin endpoint, signal handlers, logging }")
        << svc.log();
    EXPECT_NE(svc.log().find(kClean), std::string::npos) << svc.log();
}

TEST(ServiceScopeTest, SigintMidRunReleasesInReverse) {
    TempDir d;
    write_file(d / "p.yaml", endless_pipeline("off", kGenerator));
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    svc.signal(SIGINT);
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_EQ(released(svc.log()),
              "service { gen-1 " + kGeneration + ", signal handlers, logging }")
        << svc.log();
    EXPECT_NE(svc.log().find(kClean), std::string::npos) << svc.log();
}

TEST(ServiceScopeTest, AnAdminPortTakenAfterTheResourcesReleasesThemAndExits1) {
    TempDir d;
    const TakenPort taken;
    write_file(d / "p.yaml", endless_pipeline(taken.address(), kGenerator));
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    EXPECT_EQ(svc.wait(), 1) << svc.log();
    EXPECT_NE(svc.log().find("admin endpoint: "), std::string::npos) << svc.log();
    EXPECT_EQ(svc.log().find("running"), std::string::npos) << svc.log();
    EXPECT_EQ(released(svc.log()),
              "service { gen-1 " + kGeneration + ", admin endpoint, signal handlers, logging }")
        << svc.log();
    EXPECT_NE(svc.log().find(kClean), std::string::npos) << svc.log();
}

TEST(ServiceScopeTest, ASourceThatCannotOpenReleasesEverythingStartedBeforeItAndExits1) {
    TempDir d;
    const TakenPort taken;
    write_file(d / "p.yaml",
               endless_pipeline("127.0.0.1:0", "{type: http, address: '" + taken.address() + "'}"));
    Service svc({"run", "--monitor-resources", (d / "p.yaml").string()}, d / "log");
    EXPECT_EQ(svc.wait(), 1) << svc.log();
    EXPECT_NE(svc.log().find("pipeline failed to start"), std::string::npos) << svc.log();
    // The monitor comes after the pipeline's start in the ladder: it never started.
    EXPECT_EQ(released(svc.log()),
              "service { gen-1 " + kGeneration + ", admin endpoint, signal handlers, logging }")
        << svc.log();
    EXPECT_NE(svc.log().find(kClean), std::string::npos) << svc.log();
}

TEST(ServiceScopeTest, AReloadClosesOneGenerationAndOpensTheNextAFailedOneIsReleasedToo) {
    TempDir d;
    const TakenPort taken;
    write_file(d / "p.yaml", endless_pipeline("off", kGenerator));
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    svc.signal(SIGHUP);
    ASSERT_TRUE(svc.wait_for_log("reloaded: generation 2 running")) << svc.log();
    // A file that builds but whose source cannot open: the previous file starts again.
    write_file(d / "p.yaml",
               endless_pipeline("off", "{type: http, address: '" + taken.address() + "'}"));
    svc.signal(SIGHUP);
    ASSERT_TRUE(svc.wait_for_log("restarting the previous one")) << svc.log();
    svc.signal(SIGTERM);
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_EQ(released(svc.log()), "service { gen-1 " + kGeneration + ", gen-2 " + kGeneration +
                                       ", gen-3 " + kGeneration + ", gen-4 " + kGeneration +
                                       ", signal handlers, logging }")
        << svc.log();
    EXPECT_NE(svc.log().find(kClean), std::string::npos) << svc.log();
}

}  // namespace
}  // namespace scopeflow::testing
