#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>
#include <scopeflow/stages/process_stage.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::LambdaStage;
using testing::TestSource;

bool process_exists(int pid) {
    return std::filesystem::exists("/proc/" + std::to_string(pid));
}

class ProcessStageTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
};

TEST_F(ProcessStageTest, EventsRoundTripThroughChildProcesses) {
    TestSource source(200);
    Scope svc("svc", {.monitor = &iso_.monitor});
    auto stage = std::make_unique<ProcessStage>(ProcessStageOptions{.argv = {"cat"}});
    ProcessStage* proc = stage.get();
    std::atomic<std::int64_t> sum{0};
    Graph g;
    g.add_stage("echo", std::move(stage));
    g.add_stage("check", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
                    sum += e.get_int("n").value_or(-100000);
                    return kActionDefault;
                }));
    g.route("echo", "default", "check");
    {
        Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 8});
        p.start(svc);
        p.wait();
        // At most one per worker (spawned on first use), reused for every event.
        EXPECT_GE(proc->spawned(), 1U);
        EXPECT_LE(proc->spawned(), 2U);
        EXPECT_EQ(proc->replaced(), 0U);
        EXPECT_EQ(source.acked(), 200U);
    }
    EXPECT_EQ(sum.load(), 199 * 200 / 2);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(ProcessStageTest, AKilledChildIsReapedReportedAndReplaced) {
    TestSource source;  // endless
    Scope svc("svc", {.monitor = &iso_.monitor});
    auto stage = std::make_unique<ProcessStage>(ProcessStageOptions{.argv = {"cat"}});
    ProcessStage* proc = stage.get();
    Graph g;
    g.add_stage("echo", std::move(stage));
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 4});
    p.start(svc);
    std::vector<int> pids;
    for (int i = 0; i < 400; ++i) {
        pids = proc->child_pids();
        if (pids.size() == 2 && pids[0] != 0 && pids[1] != 0) {
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_NE(pids[0], 0);
    const int victim = pids[0];
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    for (int i = 0; i < 400 && proc->replaced() == 0; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    const std::uint64_t read_at_kill = source.produced();
    while (source.produced() < read_at_kill + 100) {
        std::this_thread::sleep_for(5ms);
    }
    p.request_stop();
    p.wait();
    EXPECT_GE(proc->replaced(), 1U);
    EXPECT_GE(proc->spawned(), 3U);
    EXPECT_FALSE(process_exists(victim));  // reaped, not a zombie
    for (int pid : proc->child_pids()) {
        EXPECT_EQ(pid, 0);  // every child closed with its worker scope
    }
    EXPECT_FALSE(process_exists(pids[1]));
    EXPECT_EQ(source.nacked(), 0U);  // the event in flight was retried on the new child
    EXPECT_EQ(source.acked(), source.produced());
    EXPECT_GE(iso_.monitor.count(ReportKind::close_error), 1U);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(ProcessStageTest, AProgramThatCannotStartFailsTheEventNamingIt) {
    TestSource source(3);
    Scope svc("svc", {.monitor = &iso_.monitor});
    Graph g;
    g.add_stage("bad", std::make_unique<ProcessStage>(
                           ProcessStageOptions{.argv = {"/nonexistent/enricher"}}));
    Pipeline p("p", std::move(g), source, {.workers = 1});
    p.run(svc);
    EXPECT_EQ(source.nacked(), 3U);
    EXPECT_NE(source.last_nack_reason().find("/nonexistent/enricher"), std::string::npos)
        << source.last_nack_reason();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

}  // namespace
}  // namespace scopeflow
