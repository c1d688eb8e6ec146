#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>

#include "support/accounting.h"
#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/probe.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::EventLog;
using testing::LambdaStage;
using testing::Probe;
using testing::TestSource;
using V = std::vector<std::string>;

// Logs every lifecycle hook with its scope path, and holds one resource per level:
// a "conn" per stage, a "handle" per worker, a "buffer" per event (in the task scope).
class RecordingStage final : public Stage {
public:
    RecordingStage(EventLog& log, bool log_process = false)
        : Stage("recording"),
          log_(log),
          log_process_(log_process) {}

protected:
    void on_open(Scope& scope, std::size_t workers) override {
        log_.add("open " + scope.path() + " workers=" + std::to_string(workers));
        scope.open({"conn", ResourceKind::connection}, [&] { return Probe(log_, scope.path()); });
    }
    void on_open_worker(Scope& scope, std::size_t index) override {
        log_.add("open_worker " + scope.path() + " #" + std::to_string(index));
        scope.open({"handle", ResourceKind::file}, [&] { return Probe(log_, scope.path()); });
    }
    ActionId on_process(Event& e, TaskContext& task) override {
        task.scope().open({"buffer", ResourceKind::buffer_bytes, 64},
                          [] { return std::string(64, 'x'); });
        task.scope().fault_point("work");
        if (log_process_) {
            log_.add("process " + std::to_string(e.meta().sequence));
        }
        return kActionDefault;
    }
    void on_finish(Scope& scope) override { log_.add("finish " + scope.path()); }

private:
    EventLog& log_;
    bool log_process_;
};

class PipelineTest : public ::testing::Test {
protected:
    Scope root(FaultInjector* faults = nullptr) {
        return Scope("svc",
                     {.level = ScopeLevel::service, .monitor = &iso_.monitor, .faults = faults});
    }
    Graph three_stages() {
        Graph g;
        g.add_stage("read", std::make_unique<RecordingStage>(log_));
        g.add_stage("enrich", std::make_unique<RecordingStage>(log_));
        g.add_stage("sink", std::make_unique<RecordingStage>(log_));
        g.route("read", "default", "enrich");
        g.route("enrich", "default", "sink");
        return g;
    }

    testing::Isolated iso_;
    EventLog log_;
};

TEST_F(PipelineTest, LifecycleOrderIsExactPerScope) {
    TestSource source(10);
    Scope svc = root();
    Graph g;
    g.add_stage("a", std::make_unique<RecordingStage>(log_, true));
    g.add_stage("b", std::make_unique<RecordingStage>(log_));
    g.route("a", "default", "b");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 4});
    p.run(svc);
    V expected{
        "open svc/p/a workers=1",
        "open svc/p/b workers=1",
        "open_worker svc/p/a/worker-0 #0",
        "open_worker svc/p/b/worker-0 #0",
    };
    for (int i = 0; i < 10; ++i) {
        expected.push_back("process " + std::to_string(i));  // one worker: source order
    }
    V tail{
        "finish svc/p/a",
        "finish svc/p/b",
        // release through the scopes: stages in reverse order, each after its workers
        "close svc/p/b/worker-0",
        "close svc/p/b",
        "close svc/p/a/worker-0",
        "close svc/p/a",
    };
    expected.insert(expected.end(), tail.begin(), tail.end());
    EXPECT_EQ(log_.events(), expected);
    EXPECT_EQ(source.acked(), 10U);
    EXPECT_TRUE(source.committed());
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(PipelineTest, BadRouteIsRejectedBeforeStartNamingTheStage) {
    TestSource source(10);
    Scope svc = root();
    Graph g = three_stages();
    g.route("enrich", "default", "upload");  // no such stage
    Pipeline p("p", std::move(g), source);
    try {
        p.start(svc);
        FAIL() << "start() should reject the graph";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("stage 'enrich' routes action 'default' to stage "
                                             "'upload', which does not exist"),
                  std::string::npos)
            << e.what();
        EXPECT_EQ(e.where(), "graph.routes.enrich.default");
    }
    EXPECT_TRUE(log_.events().empty());  // nothing was opened
    EXPECT_EQ(source.produced(), 0U);
}

TEST_F(PipelineTest, UndeclaredActionAndUnreachableStageAreConfigErrors) {
    {
        Graph g = three_stages();
        g.route("sink", "high_value", "read");
        EXPECT_THROW(g.validate(), ConfigError);
    }
    {
        Graph g;
        g.add_stage("a", std::make_unique<RecordingStage>(log_));
        g.add_stage("orphan", std::make_unique<RecordingStage>(log_));
        try {
            g.validate();
            FAIL();
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("'orphan' is not reachable"), std::string::npos);
        }
    }
}

TEST_F(PipelineTest, NothingLostNothingDoubledWithErrorsAndDeadLetter) {
    TestSource source(1000);
    Scope svc = root();
    std::atomic<int> dlq_seen{0};
    Graph g;
    g.add_stage("parse", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    const auto n = e.get_int("n").value_or(0);
                    if (n % 10 == 3) {
                        throw TransientError("bad record " + std::to_string(n));
                    }
                    return n % 10 == 5 ? kActionDrop : kActionDefault;
                }));
    g.add_stage("sink",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.add_stage("dlq", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
                    EXPECT_NE(e.get_string("_error").value_or("").find("bad record"),
                              std::string::npos);
                    EXPECT_EQ(e.get_string("_failed_stage").value_or(""), "parse");
                    ++dlq_seen;
                    return kActionDefault;
                }));
    g.route("parse", "default", "sink");
    g.set_dead_letter("dlq");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 16});
    p.run(svc);
    const PipelineStats s = p.stats();
    EXPECT_EQ(s.read, 1000U);
    EXPECT_EQ(s.completed, 800U);
    EXPECT_EQ(s.dead_lettered, 100U);
    EXPECT_EQ(s.dropped, 100U);
    EXPECT_EQ(s.failed, 0U);
    EXPECT_EQ(s.completed + s.dead_lettered + s.dropped, s.read);
    EXPECT_EQ(dlq_seen.load(), 100);
    EXPECT_EQ(source.acked(), 1000U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(s.stages[0].errors, 100U);
}

TEST_F(PipelineTest, ErrorWithoutDeadLetterIsNacked) {
    TestSource source(20);
    Scope svc = root();
    Graph g;
    g.add_stage("only", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    return e.get_int("n").value_or(0) == 7 ? kActionError : kActionDefault;
                }));
    Pipeline p("p", std::move(g), source, {.workers = 1});
    p.run(svc);
    EXPECT_EQ(source.acked(), 19U);
    EXPECT_EQ(source.nacked(), 1U);
    EXPECT_NE(source.last_nack_reason().find("stage 'only' returned error"), std::string::npos);
}

TEST_F(PipelineTest, ErrorRouteIsTakenWhenDeclared) {
    TestSource source(10);
    Scope svc = root();
    std::atomic<int> handled{0};
    Graph g;
    g.add_stage("work", std::make_unique<LambdaStage>([](Event&, TaskContext&) -> ActionId {
                    throw std::runtime_error("boom");
                }));
    g.add_stage("fix", std::make_unique<LambdaStage>([&](Event&, TaskContext&) {
                    ++handled;
                    return kActionDefault;
                }));
    g.route("work", "error", "fix");
    Pipeline p("p", std::move(g), source, {.workers = 2});
    p.run(svc);
    EXPECT_EQ(handled.load(), 10);
    EXPECT_EQ(source.acked(), 10U);
    EXPECT_EQ(p.stats().completed, 10U);
}

TEST_F(PipelineTest, FanOutAcksOnlyAfterEveryBranch) {
    TestSource source(50);
    Scope svc = root();
    std::atomic<int> left{0};
    std::atomic<int> right{0};
    Graph g;
    g.add_stage("split",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.add_stage("left", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
                    e.set("side", Value(std::string("left")));
                    ++left;
                    return kActionDefault;
                }));
    g.add_stage(
        "right", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
            EXPECT_FALSE(e.get_string("side").has_value());  // a copy, not the left branch's event
            ++right;
            return kActionDefault;
        }));
    g.route("split", "default", "left");
    g.route("split", "default", "right");
    Pipeline p("p", std::move(g), source);
    p.run(svc);
    EXPECT_EQ(left.load(), 50);
    EXPECT_EQ(right.load(), 50);
    EXPECT_EQ(p.stats().completed, 100U);
    EXPECT_EQ(source.acked(), 50U);
}

TEST_F(PipelineTest, CyclesAreBoundedByTheHopLimit) {
    TestSource source(5);
    Scope svc = root();
    Graph g;
    g.add_stage("ping",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.add_stage("pong",
                std::make_unique<LambdaStage>([](Event&, TaskContext&) { return kActionDefault; }));
    g.add_stage("dlq", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    EXPECT_NE(e.get_string("_error").value_or("").find("hop limit"),
                              std::string::npos);
                    return kActionDefault;
                }));
    g.route("ping", "default", "pong");
    g.route("pong", "default", "ping");
    g.set_dead_letter("dlq");
    g.set_max_hops(10);
    Pipeline p("p", std::move(g), source);
    p.run(svc);
    EXPECT_EQ(p.stats().dead_lettered, 5U);
    EXPECT_EQ(source.acked(), 5U);
}

TEST_F(PipelineTest, ShutdownUnderLoadLosesNothing) {
    TestSource source;  // endless
    Scope svc = root();
    Graph g = three_stages();
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 32});
    p.start(svc);
    std::this_thread::sleep_for(50ms);
    p.request_stop();
    p.wait();
    const PipelineStats s = p.stats();
    EXPECT_GT(s.read, 0U);
    EXPECT_EQ(source.produced(), s.read);  // every event read was carried to the end
    EXPECT_EQ(s.completed, s.read);
    EXPECT_EQ(source.acked(), s.read);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(PipelineTest, FailedStartClosesWhatAlreadyOpened) {
    TestSource source(10);
    Scope svc = root();
    class FailingOpen final : public Stage {
    public:
        FailingOpen()
            : Stage("failing") {}

    protected:
        void on_open(Scope&, std::size_t) override { throw ConfigError("x", "cannot open"); }
        ActionId on_process(Event&, TaskContext&) override { return kActionDefault; }
    };
    Graph g;
    g.add_stage("a", std::make_unique<RecordingStage>(log_));
    g.add_stage("b", std::make_unique<FailingOpen>());
    g.route("a", "default", "b");
    Pipeline p("p", std::move(g), source);
    EXPECT_THROW(p.start(svc), ConfigError);
    EXPECT_EQ(log_.events(), (V{"open svc/p/a workers=2", "close svc/p/a"}));
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    EXPECT_EQ(source.produced(), 0U);
}

TEST_F(PipelineTest, FaultAtEveryLifecyclePointLeavesNothingLive) {
    auto scenario = [&](FaultInjector& faults) {
        TestSource source(20);
        Scope svc = root(&faults);
        Graph g = three_stages();
        g.add_stage("dlq", std::make_unique<LambdaStage>(
                               [](Event&, TaskContext&) { return kActionDefault; }));
        g.set_dead_letter("dlq");
        Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 4});
        testing::run_accounted(p, svc, source, 20);  // once running, nothing is lost
    };
    const auto hits = FaultInjector::record(scenario);
    ASSERT_GT(hits.size(), 40U);
    std::set<std::pair<FaultPhase, std::string>> points;
    for (const auto& h : hits) {
        points.insert({h.phase, h.point});
    }
    // Walk the first hit of every distinct point, and a mid-run hit of each per-event point.
    for (const auto& [phase, point] : points) {
        for (std::uint64_t nth : {1ULL, 7ULL}) {
            SCOPED_TRACE(std::string(to_string(phase)) + " " + point + " #" + std::to_string(nth));
            FaultInjector faults;
            faults.arm({.phase = phase, .point = point, .nth = nth});
            scenario(faults);
            EXPECT_TRUE(testing::nothing_live(iso_.ledger));
        }
    }
}

}  // namespace
}  // namespace scopeflow

namespace scopeflow {
namespace {

TEST(PipelineDrainTest, StuckWorkersAreReportedUntilTheDeadlineThenLeftToTheCaller) {
    testing::Isolated iso;
    std::vector<std::string> stuck;
    std::mutex mu;
    iso.monitor.set_sink([&](const Report& r) {
        if (r.kind == ReportKind::stuck) {
            std::lock_guard lock(mu);
            stuck.push_back(r.message);
        }
    });
    std::atomic<bool> release{false};
    testing::TestSource source;  // endless
    Scope svc("svc", {.monitor = &iso.monitor});
    Graph g;
    g.add_stage("slow", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    if (e.meta().sequence == 3) {
                        while (!release.load()) {  // ignores stop: a stage that hangs
                            std::this_thread::sleep_for(std::chrono::milliseconds(5));
                        }
                    }
                    return kActionDefault;
                }));
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 4});
    p.start(svc);
    while (p.busy_workers().empty() || source.produced() < 8) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(p.drain(std::chrono::milliseconds(300), std::chrono::milliseconds(50)));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, std::chrono::milliseconds(300));
    EXPECT_LT(took, std::chrono::milliseconds(300 + 700));
    {
        std::lock_guard lock(mu);
        ASSERT_GE(stuck.size(), 3U);
        EXPECT_NE(stuck.back().find("stage 'slow', event 3"), std::string::npos) << stuck.back();
    }
    release = true;
    EXPECT_TRUE(p.drain(std::chrono::seconds(10)));
    p.wait();
    EXPECT_EQ(source.acked(), source.produced());  // nothing lost, even the slow one
}

}  // namespace
}  // namespace scopeflow
