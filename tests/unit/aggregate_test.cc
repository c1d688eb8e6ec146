#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/stages/aggregate_stages.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::LambdaStage;

Event at(std::int64_t ts, std::string user, double price) {
    return Event{{"ts", Value(ts)}, {"user", Value(std::move(user))}, {"price", Value(price)}};
}

class AggregateTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    Scope svc_{"svc", {.monitor = &iso_.monitor}};
    std::mutex mu_;
    std::vector<std::string> out_;
};

TEST_F(AggregateTest, CounterCountsPerKeyAcrossWorkers) {
    testing::TestSource source(1000);
    auto counter = std::make_unique<CounterStage>(CounterOptions{.key_field = "parity"});
    CounterStage* c = counter.get();
    Graph g;
    g.add_stage("parity", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    e.set("parity", Value(e.get_int("n").value_or(0) % 2 == 0 ? "even" : "odd"));
                    return kActionDefault;
                }));
    g.add_stage("count", std::move(counter));
    g.route("parity", "default", "count");
    Pipeline p("p", std::move(g), source, {.workers = 2});
    p.run(svc_);
    EXPECT_EQ(c->count("even"), 500U);
    EXPECT_EQ(c->count("odd"), 500U);
}

TEST_F(AggregateTest, TumblingWindowsEmitPerKeyAndAckInputsAfterTheirWindow) {
    testing::TestSource source(
        std::vector<Event>{at(1000, "a", 1), at(1500, "b", 2), at(1999, "a", 3),  // window 1000
                           at(2000, "a", 4), at(2500, "a", 5),                    // window 2000
                           at(1200, "b", 6),                                      // late
                           at(4100, "b", 7)});                                    // window 4000
    auto window = std::make_unique<TumblingWindowStage>(TumblingWindowOptions{
        .time_field = "ts", .size = 1000ms, .key_field = "user", .sum_field = "price"});
    TumblingWindowStage* w = window.get();
    Graph g;
    g.add_stage("window", std::move(window));
    g.add_stage("sink", std::make_unique<LambdaStage>([&](Event& e, TaskContext&) {
                    std::lock_guard lock(mu_);
                    out_.push_back(to_json(e));
                    return kActionDefault;
                }));
    g.route("window", "window", "sink");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 2});
    p.run(svc_);
    EXPECT_EQ(out_, (std::vector<std::string>{
                        R"({"window_start":1000,"window_end":2000,"key":"a","count":2,"sum":4.0})",
                        R"({"window_start":1000,"window_end":2000,"key":"b","count":1,"sum":2.0})",
                        R"({"window_start":2000,"window_end":3000,"key":"a","count":2,"sum":9.0})",
                        R"({"window_start":4000,"window_end":5000,"key":"b","count":1,"sum":7.0})",
                    }));
    EXPECT_EQ(w->windows_emitted(), 4U);
    EXPECT_EQ(w->late_events(), 1U);
    EXPECT_EQ(source.acked(), 7U);  // the last window was flushed at the end of the input
    EXPECT_EQ(source.nacked(), 0U);
    const PipelineStats s = p.stats();
    EXPECT_EQ(s.emitted, 4U);
    EXPECT_EQ(s.held, 6U);
}

TEST_F(AggregateTest, AStopNacksTheOpenWindowSoItIsReadAgain) {
    testing::TestSource source;  // endless, every event in the same window
    Graph g;
    g.add_stage("ts", std::make_unique<LambdaStage>([](Event& e, TaskContext&) {
                    e.set("ts", Value(std::int64_t{5}));
                    return kActionDefault;
                }));
    g.add_stage("window", std::make_unique<TumblingWindowStage>(
                              TumblingWindowOptions{.time_field = "ts", .size = 1000ms}));
    g.route("ts", "default", "window");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 8});
    p.start(svc_);
    while (source.produced() < 100) {
        std::this_thread::sleep_for(1ms);
    }
    p.request_stop();
    p.wait();
    EXPECT_EQ(source.acked(), 0U);
    EXPECT_EQ(source.nacked(), source.produced());  // all held, none lost, none acked early
    EXPECT_EQ(source.settled_twice(), 0U);
}

TEST_F(AggregateTest, MissingTimestampTakesTheErrorRoute) {
    testing::TestSource source(std::vector<Event>{Event{{"user", Value("x")}}});
    Graph g;
    g.add_stage("window",
                std::make_unique<TumblingWindowStage>(TumblingWindowOptions{.time_field = "ts"}));
    Pipeline p("p", std::move(g), source, {.workers = 1});
    p.run(svc_);
    EXPECT_EQ(source.nacked(), 1U);
}

}  // namespace
}  // namespace scopeflow
