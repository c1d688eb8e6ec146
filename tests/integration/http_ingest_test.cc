// HttpIngestSource in a real pipeline: a request is answered after its events are processed
// (200), or 503 when they were not (nacked, stopped); bad bodies 400; backpressure 503.
#include <atomic>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/http/ingest_source.h>
#include <scopeflow/http/session.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;

http::Response post(const std::string& url, const std::string& body) {
    auto o = std::make_shared<http::ClientOptions>();
    o->name = "test";
    o->total_timeout = 20s;
    http::Session s = http::Session::open(o);
    http::Request r;
    r.method = "POST";
    r.target = url;
    r.body = body;
    return s.perform(r);
}

class HttpIngestTest : public ::testing::Test {
protected:
    testing::Isolated iso_;
    Scope root_{"svc", {.monitor = &iso_.monitor}};
};

TEST_F(HttpIngestTest, AnswersAfterTheEventsAreProcessedAndNacksBecome503) {
    http::HttpIngestSource source({});
    std::atomic<int> seen{0};
    Graph g;
    g.add_stage("work", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    ++seen;
                    return e.get_int("bad").value_or(0) == 1 ? kActionError : kActionDefault;
                }));
    g.validate();
    Pipeline p("ingest", std::move(g), source, {.workers = 2, .batch_size = 16});
    p.start(root_);

    // JSON lines, an array, a single object: all processed before the answer.
    const http::Response lines = post(source.url(), "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    EXPECT_EQ(lines.status, 200) << lines.body;
    EXPECT_EQ(lines.body, "{\"accepted\":3}\n");
    EXPECT_GE(seen.load(), 3);
    EXPECT_EQ(post(source.url(), "[{\"id\":4},{\"id\":5,\"s\":\"a}b\"}]").status, 200);
    EXPECT_EQ(post(source.url(), "{\"id\":6}").status, 200);
    // An event that fails with no dead-letter stage is nacked: the client is told to retry.
    EXPECT_EQ(post(source.url(), "{\"id\":7}\n{\"id\":8,\"bad\":1}\n").status, 503);
    // A bad body is refused whole, naming the line.
    const http::Response bad = post(source.url(), "{\"id\":9}\nnot json\n");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("line 2 is not JSON"), std::string::npos) << bad.body;
    EXPECT_EQ(post(source.url(), "").status, 400);
    EXPECT_EQ(source.received(), 8U);

    p.request_stop();
    p.wait();
    source.close();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(HttpIngestTest, BackpressureAndShutdownAnswer503) {
    http::HttpIngestSource source({.max_pending = 4, .max_requests = 4});
    std::atomic<bool> release{false};
    Graph g;
    g.add_stage("slow", std::make_unique<testing::LambdaStage>([&](Event&, TaskContext& t) {
                    while (!release.load() && !t.stop_token().stop_requested()) {
                        std::this_thread::sleep_for(5ms);
                    }
                    return kActionDefault;
                }));
    g.validate();
    Pipeline p("ingest", std::move(g), source, {.workers = 1, .batch_size = 4});
    p.start(root_);
    std::thread first(
        [&] { EXPECT_EQ(post(source.url(), "{\"a\":1}\n{\"a\":2}\n{\"a\":3}").status, 200); });
    while (source.received() < 3) {
        std::this_thread::sleep_for(5ms);
    }
    // 3 pending + 2 > max_pending 4: refused at once, with Retry-After.
    const http::Response full = post(source.url(), "{\"b\":1}\n{\"b\":2}");
    EXPECT_EQ(full.status, 503);
    EXPECT_EQ(full.headers.get("Retry-After").value_or(""), "1");
    release = true;
    first.join();
    p.request_stop();
    p.wait();
    source.close();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

TEST_F(HttpIngestTest, BadBodiesSayWhatIsWrongAndWhere) {
    http::HttpIngestSource source({});
    Graph g;
    g.add_stage("work", std::make_unique<testing::LambdaStage>(
                            [](Event&, TaskContext&) { return kActionDefault; }));
    g.validate();
    Pipeline p("ingest", std::move(g), source, {.workers = 1, .batch_size = 16});
    p.start(root_);
    const auto refused = [&](const std::string& body, const std::string& why) {
        const http::Response r = post(source.url(), body);
        EXPECT_EQ(r.status, 400) << body;
        EXPECT_NE(r.body.find(why), std::string::npos) << body << " -> " << r.body;
    };
    refused("[1,2,3]", "element 1 of the array is a number, not a JSON object");
    refused("[{\"a\":1}, \"x\"]", "element 2 of the array is a string, not a JSON object");
    refused("[{\"a\":1}, null]", "element 2 of the array is null, not a JSON object");
    refused("[{\"a\":1}", "the array is not closed");
    refused("[{\"a\":1} {\"b\":2}]", "expected ',' or ']' after element 1 of the array");
    refused("[]", "the array is empty");
    refused("  \n", "the body is empty");
    refused("{\"a\":1}\n[2]\n", "line 2 is an array, not a JSON object");
    EXPECT_EQ(source.received(), 0U);  // a bad body is refused whole
    // A pretty-printed object is one event, not lines.
    const http::Response pretty = post(source.url(), "{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n");
    EXPECT_EQ(pretty.status, 200) << pretty.body;
    EXPECT_EQ(pretty.body, "{\"accepted\":1}\n");
    p.request_stop();
    p.wait();
    source.close();
}

TEST_F(HttpIngestTest, ARequestLargerThanMaxPendingIs413NotRetryLater) {
    // Waiting can never make 5 events fit in max_pending 4: a 503 would have the client retry
    // forever. 413 says the request itself must change, and names the limit.
    http::HttpIngestSource source({.max_pending = 4});
    Graph g;
    g.add_stage("work", std::make_unique<testing::LambdaStage>(
                            [](Event&, TaskContext&) { return kActionDefault; }));
    g.validate();
    Pipeline p("ingest", std::move(g), source, {.workers = 1, .batch_size = 16});
    p.start(root_);
    const http::Response big = post(source.url(), "[{},{},{},{},{}]");
    EXPECT_EQ(big.status, 413) << big.body;
    EXPECT_NE(big.body.find("max_pending (4)"), std::string::npos) << big.body;
    EXPECT_FALSE(big.headers.contains("Retry-After"));
    EXPECT_EQ(source.received(), 0U);
    EXPECT_EQ(post(source.url(), "[{},{},{},{}]").status, 200);  // at the limit: fine
    p.request_stop();
    p.wait();
    source.close();
    EXPECT_TRUE(testing::nothing_live(iso_.ledger));
}

}  // namespace
}  // namespace scopeflow
