// StreamSource over a real pipe: every line read once, bad lines to the dead-letter stage with
// their line number, end of stream ends the input, a stop ends a blocked read promptly.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/sources/stream_source.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

class StreamSourceTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    Scope root_{"svc", {.monitor = &iso_.monitor}};
};

TEST_F(StreamSourceTest, ReadsEveryLineOnceAndDeadLettersBadOnes) {
    auto [read_end, write_end] = UniqueFd::pipe();
    StreamSource source({.fd = read_end.get(), .name = "pipe"});
    std::mutex mu;
    std::vector<std::int64_t> ids;
    std::vector<std::string> errors;
    Graph g;
    g.add_stage("keep", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    std::lock_guard lock(mu);
                    ids.push_back(e.get_int("id").value_or(-1));
                    return kActionDefault;
                }));
    g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    std::lock_guard lock(mu);
                    errors.emplace_back(e.get_string("_error").value_or(""));
                    return kActionDefault;
                }));
    g.set_dead_letter("dlq");
    g.validate();
    std::thread producer([w = std::move(write_end)]() mutable {
        for (int i = 1; i <= 2000; ++i) {
            w.write_all("{\"id\":" + std::to_string(i) + "}\n", "write");
            if (i == 1000) {
                w.write_all("not json\n\n", "write");  // line 1001, then a blank line
            }
        }
        w.write_all("{\"id\":2001}", "write");  // last line without a newline
    });                                         // closing the write end ends the stream
    Pipeline p("stream", std::move(g), source, {.workers = 2, .batch_size = 64});
    p.run(root_);
    producer.join();
    ASSERT_EQ(ids.size(), 2001U);
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ASSERT_EQ(ids[i], static_cast<std::int64_t>(i + 1));
    }
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].rfind("pipe:1001: ", 0), 0U) << errors[0];
    EXPECT_EQ(source.acked(), 2002U);  // the bad line too, once dead-lettered
    EXPECT_EQ(source.nacked(), 0U);
}

TEST_F(StreamSourceTest, AStopEndsABlockedReadPromptly) {
    auto [read_end, write_end] = UniqueFd::pipe();  // nothing is ever written
    StreamSource source({.fd = read_end.get()});
    Graph g;
    g.add_stage("keep", std::make_unique<testing::LambdaStage>(
                            [](Event&, TaskContext&) { return kActionDefault; }));
    g.validate();
    Pipeline p("stream", std::move(g), source, {.workers = 1});
    p.start(root_);
    std::this_thread::sleep_for(50ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(p.drain(5s));
    p.wait();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace scopeflow
