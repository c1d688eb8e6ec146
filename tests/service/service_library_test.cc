// The service as a library (scopeflow/service/service.h), in this process: run a file, stop and
// reload from another thread, the process's signal handlers given back, nothing left live.
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/ledger.h>
#include <scopeflow/service/service.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

using namespace std::chrono_literals;

std::string generator_pipeline(int count) {
    return "service: {admin: 'off', progress_interval: 0}\n"
           "resources:\n  db: {type: sqlite}\n"
           "source: {type: generator, count: " +
           std::to_string(count) +
           "}\n"
           "graph:\n  stages:\n    keep: {type: filter, field: seq, op: ge, value: 0}\n";
}

// True once a ledger entry is owned by the scope at `path` or below it, within `timeout`.
bool scope_seen(const std::string& path, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    do {
        for (const auto& o : Ledger::global().snapshot().by_owner) {
            if (o.owner_path == path || o.owner_path.starts_with(path + "/")) {
                return true;
            }
        }
        std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < end);
    return false;
}

TEST(ServiceLibraryTest, RunFileRunsAFiniteInputToTheEnd) {
    TempDir d;
    write_file(d / "p.yaml", generator_pipeline(1000));
    EXPECT_EQ(service::run_file((d / "p.yaml").string()), service::kExitOk);
    EXPECT_EQ(Ledger::global().live_total(), 0U);
}

TEST(ServiceLibraryTest, ABadFileIsExit3AndCheckSaysWhere) {
    TempDir d;
    write_file(d / "p.yaml", "source: {type: generator}\ngraph: {stages: {a: {type: nope}}}\n");
    EXPECT_EQ(service::run_file((d / "p.yaml").string()), service::kExitBadConfig);
    EXPECT_EQ(service::check_file((d / "p.yaml").string()), service::kExitBadConfig);
    EXPECT_EQ(Ledger::global().live_total(), 0U);
}

TEST(ServiceLibraryTest, ReloadAndStopFromAnotherThreadThenTheSignalHandlersAreGivenBack) {
    TempDir d;
    write_file(d / "p.yaml", generator_pipeline(0));
    struct sigaction before {};
    ASSERT_EQ(::sigaction(SIGTERM, nullptr, &before), 0);
    service::Service svc({.config_path = (d / "p.yaml").string()});
    int code = -1;
    std::jthread runner([&] { code = svc.run(); });
    ASSERT_TRUE(scope_seen("service/gen-1", 20s));
    svc.reload();
    ASSERT_TRUE(scope_seen("service/gen-2", 20s));
    svc.stop();
    runner.join();
    EXPECT_EQ(code, service::kExitOk);
    EXPECT_EQ(Ledger::global().live_total(), 0U);
    struct sigaction after {};
    ASSERT_EQ(::sigaction(SIGTERM, nullptr, &after), 0);
    EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(ServiceLibraryTest, AStopBeforeRunStopsAsSoonAsThePipelineRuns) {
    TempDir d;
    write_file(d / "p.yaml", generator_pipeline(0));
    service::Service svc({.config_path = (d / "p.yaml").string(), .handle_signals = false});
    svc.stop();
    EXPECT_EQ(svc.run(), service::kExitOk);
    EXPECT_EQ(Ledger::global().live_total(), 0U);
}

}  // namespace
}  // namespace scopeflow::testing
