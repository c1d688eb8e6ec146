// The http_post stage in real pipelines POSTing to the embedded server: batches, acks only
// after a 2xx, a 5xx streak failing its events (dead-lettered, or nacked without a dead-letter
// stage: never lost), best-effort drop, and configuration through the registry and Resources.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/stages/http_post_stage.h>

#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::TestSource;

// What the collector endpoint received: every "n" of every accepted POST.
class Collector {
public:
    // `fail_first` requests are answered 503 before the endpoint starts accepting.
    explicit Collector(int fail_first = 0, bool always_fail = false)
        : fail_first_(fail_first),
          always_fail_(always_fail) {
        server_.route("POST", "/ingest", [this](const http::Request& r) { return handle(r); });
        server_.start();
    }

    http::Response handle(const http::Request& r) {
        std::unique_lock lock(mu_);
        ++requests_;
        if (gate_closed_) {
            entered_ = true;
            cv_.notify_all();
            cv_.wait(lock, r.stop, [&] { return !gate_closed_; });
        }
        if (always_fail_ || requests_ <= fail_first_) {
            return http::Response::text(503, "unavailable");
        }
        if (!r.body.starts_with('[') || !r.body.ends_with(']')) {
            return http::Response::text(400, "not a JSON array");
        }
        content_types_.insert(std::string(r.headers.get("Content-Type").value_or("")));
        source_header_ = std::string(r.headers.get("X-Source").value_or(""));
        std::size_t events = 0;
        for (std::size_t pos = r.body.find("\"n\":"); pos != std::string::npos;
             pos = r.body.find("\"n\":", pos + 1)) {
            ++received_[std::stoll(r.body.substr(pos + 4))];
            ++events;
        }
        max_batch_ = std::max(max_batch_, events);
        return http::Response::json(200, R"({"accepted":true})");
    }

    // Holds every request until open_gate(); wait_entered() returns once one is held.
    void close_gate() {
        std::lock_guard lock(mu_);
        gate_closed_ = true;
    }
    void wait_entered() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return entered_; });
    }
    void open_gate() {
        std::lock_guard lock(mu_);
        gate_closed_ = false;
        cv_.notify_all();
    }

    std::map<std::int64_t, int> received() const {
        std::lock_guard lock(mu_);
        return received_;
    }
    std::size_t max_batch() const {
        std::lock_guard lock(mu_);
        return max_batch_;
    }
    int requests() const {
        std::lock_guard lock(mu_);
        return requests_;
    }
    std::set<std::string> content_types() const {
        std::lock_guard lock(mu_);
        return content_types_;
    }
    std::string source_header() const {
        std::lock_guard lock(mu_);
        return source_header_;
    }
    std::string url() const { return server_.url(); }

private:
    const int fail_first_;
    const bool always_fail_;
    mutable std::mutex mu_;
    std::condition_variable_any cv_;
    bool gate_closed_ = false;              // guarded by mu_
    bool entered_ = false;                  // guarded by mu_
    int requests_ = 0;                      // guarded by mu_
    std::map<std::int64_t, int> received_;  // guarded by mu_
    std::size_t max_batch_ = 0;             // guarded by mu_
    std::set<std::string> content_types_;   // guarded by mu_
    std::string source_header_;             // guarded by mu_
    http::Server server_{{.name = "collector", .workers = 2}};
};

class HttpPostStageTest : public ::testing::Test {
protected:
    Scope root() { return Scope("svc", {.level = ScopeLevel::service, .monitor = &iso_.monitor}); }

    static std::shared_ptr<http::Client> client_for(const Collector& c, int attempts = 3) {
        return http::Client::create(
            {.name = "collector",
             .base_url = c.url(),
             .retry = {.max_attempts = attempts, .initial_backoff = 1ms, .max_backoff = 2ms}});
    }

    static Graph one_stage(std::unique_ptr<Stage> stage) {
        Graph g;
        g.add_stage("post", std::move(stage));
        return g;
    }

    testing::Isolated iso_;
};

TEST_F(HttpPostStageTest, PostsEveryEventOnceInBatchesAndAcksThem) {
    Collector collector;
    auto client = client_for(collector);
    auto stage = std::make_unique<HttpPostStage>(
        HttpPostOptions{.client = client, .target = "/ingest", .batch_size = 20});
    HttpPostStage* post = stage.get();
    TestSource source(250);
    Scope svc = root();
    Pipeline p("p", one_stage(std::move(stage)), source, {.workers = 2, .batch_size = 50});
    p.run(svc);

    const auto received = collector.received();
    ASSERT_EQ(received.size(), 250U);
    for (const auto& [n, times] : received) {
        EXPECT_EQ(times, 1) << "event " << n;
    }
    EXPECT_EQ(collector.max_batch(), 20U);
    EXPECT_EQ(collector.content_types(), std::set<std::string>{"application/json"});
    EXPECT_EQ(source.acked(), 250U);
    EXPECT_EQ(source.nacked(), 0U);
    EXPECT_EQ(post->events_posted(), 250U);
    // 50-event pipeline batches in 20-event POSTs: 20 + 20 + 10 per pipeline batch.
    EXPECT_EQ(post->requests_sent(), 15U);
    // Each worker's pooled session kept its connection.
    EXPECT_LE(client->stats().connections_opened, 2U);
}

TEST_F(HttpPostStageTest, EventsAreAckedOnlyAfterThe2xx) {
    Collector collector;
    collector.close_gate();
    TestSource source(10);
    Scope svc = root();
    Pipeline p("p",
               one_stage(std::make_unique<HttpPostStage>(HttpPostOptions{
                   .client = client_for(collector), .target = "/ingest", .batch_size = 100})),
               source, {.workers = 1, .batch_size = 10});
    p.start(svc);
    collector.wait_entered();  // the POST of the batch is at the server, unanswered
    EXPECT_EQ(source.acked(), 0U);
    collector.open_gate();
    p.wait();
    EXPECT_EQ(source.acked(), 10U);
    EXPECT_EQ(collector.received().size(), 10U);
}

TEST_F(HttpPostStageTest, A5xxStreakFailsItsBatchesWhichAreNackedNotLost) {
    // No dead-letter stage. Two attempts per POST: the first four requests (two batches) meet
    // a 503.
    Collector collector(/*fail_first=*/4);
    auto stage = std::make_unique<HttpPostStage>(
        HttpPostOptions{.client = client_for(collector, 2), .target = "/ingest", .batch_size = 10});
    HttpPostStage* post = stage.get();
    TestSource source(100);
    Scope svc = root();
    Pipeline p("p", one_stage(std::move(stage)), source, {.workers = 1, .batch_size = 10});
    p.run(svc);

    EXPECT_EQ(source.nacked(), 20U);
    EXPECT_EQ(source.acked(), 80U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(post->events_failed(), 20U);
    EXPECT_EQ(collector.requests(), 4 + 8);
    // Every event is either delivered (and acked) or nacked back to the source: none is lost.
    const auto received = collector.received();
    EXPECT_EQ(received.size(), 80U);
    for (std::int64_t n = 0; n < 20; ++n) {
        EXPECT_EQ(received.count(n), 0U) << n;  // the failed batches: 0..19
    }
    for (std::int64_t n = 20; n < 100; ++n) {
        EXPECT_EQ(received.count(n), 1U) << n;
    }
    const PipelineStats stats = p.stats();
    EXPECT_EQ(stats.read, 100U);
    EXPECT_EQ(stats.acked + stats.nacked, 100U);
}

TEST_F(HttpPostStageTest, A5xxStreakWithADeadLetterStageDeadLettersItsEventsWhichAreAcked) {
    // Two attempts per POST: the first four requests (the POSTs of events 0..19) meet a 503.
    Collector collector(/*fail_first=*/4);
    auto stage = std::make_unique<HttpPostStage>(
        HttpPostOptions{.client = client_for(collector, 2), .target = "/ingest", .batch_size = 10});
    HttpPostStage* post = stage.get();
    std::mutex mu;
    std::map<std::int64_t, int> dead;  // n -> times dead-lettered
    std::vector<std::string> errors;
    Graph g;
    g.add_stage("post", std::move(stage));
    g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    std::lock_guard lock(mu);
                    ++dead[e.get_int("n").value_or(-1)];
                    EXPECT_EQ(e.get_string("_failed_stage").value_or(""), "post");
                    errors.emplace_back(e.get_string("_error").value_or(""));
                    return kActionDefault;
                }));
    g.set_dead_letter("dlq");
    TestSource source(100);
    Scope svc = root();
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 10});
    p.run(svc);

    // None lost, none nacked: every event was delivered or dead-lettered, then acked.
    EXPECT_EQ(source.acked(), 100U);
    EXPECT_EQ(source.nacked(), 0U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_EQ(post->events_failed(), 20U);
    const auto received = collector.received();
    std::lock_guard lock(mu);
    EXPECT_EQ(dead.size(), 20U);
    EXPECT_EQ(received.size(), 80U);
    EXPECT_EQ(collector.requests(), 4 + 8);
    for (std::int64_t n = 0; n < 100; ++n) {
        EXPECT_EQ(dead.contains(n) ? dead.at(n) : 0, n < 20 ? 1 : 0) << "event " << n;
        EXPECT_EQ(received.contains(n) ? received.at(n) : 0, n < 20 ? 0 : 1) << "event " << n;
    }
    for (const std::string& error : errors) {
        EXPECT_NE(error.find("stage 'post': http_post: POST of 10 event(s) failed"),
                  std::string::npos)
            << error;
        EXPECT_NE(error.find("503"), std::string::npos) << error;
    }
    const PipelineStats stats = p.stats();
    EXPECT_EQ(stats.read, 100U);
    EXPECT_EQ(stats.completed, 80U);
    EXPECT_EQ(stats.dead_lettered, 20U);
    EXPECT_EQ(stats.failed, 0U);
    EXPECT_EQ(stats.flush_failed, 20U);
    EXPECT_EQ(stats.completed + stats.dead_lettered + stats.dropped + stats.failed, stats.read);
}

TEST_F(HttpPostStageTest, AFailedPostSkipsTheRestOfItsBatch) {
    Collector collector(0, /*always_fail=*/true);
    TestSource source(30);
    Scope svc = root();
    auto stage = std::make_unique<HttpPostStage>(
        HttpPostOptions{.client = client_for(collector, 2), .target = "/ingest", .batch_size = 5});
    HttpPostStage* post = stage.get();
    Pipeline p("p", one_stage(std::move(stage)), source, {.workers = 1, .batch_size = 30});
    p.run(svc);
    EXPECT_EQ(source.nacked(), 30U);
    EXPECT_EQ(post->requests_sent(), 1U);  // the batch was lost at its first POST
    EXPECT_EQ(collector.requests(), 2);
}

TEST_F(HttpPostStageTest, OnlyTheEventsThatWentThroughAFailedPostAreNacked) {
    Collector collector(0, /*always_fail=*/true);
    Graph g;
    g.add_stage("odd", std::make_unique<testing::LambdaStage>([](Event& e, TaskContext&) {
                    return e.get_int("n").value_or(0) % 2 == 0 ? kActionDrop : kActionDefault;
                }));
    g.add_stage("post", std::make_unique<HttpPostStage>(HttpPostOptions{
                            .client = client_for(collector, 1), .target = "/ingest"}));
    g.route("odd", "default", "post");
    TestSource source(20);
    Scope svc = root();
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 20});
    p.run(svc);
    EXPECT_EQ(source.acked(), 10U);  // the even ones, filtered out: not the POST's business
    EXPECT_EQ(source.nacked(), 10U);
    EXPECT_EQ(source.settled_twice(), 0U);
    EXPECT_NE(source.last_nack_reason().find("stage 'post': http_post: POST of 10 event(s) "
                                             "failed"),
              std::string::npos)
        << source.last_nack_reason();
    EXPECT_EQ(p.stats().failed, 10U);
}

TEST_F(HttpPostStageTest, DropModeAcksWhatCouldNotBeDelivered) {
    Collector collector(0, /*always_fail=*/true);
    TestSource source(25);
    Scope svc = root();
    auto stage =
        std::make_unique<HttpPostStage>(HttpPostOptions{.client = client_for(collector, 1),
                                                        .target = "/ingest",
                                                        .batch_size = 10,
                                                        .on_error = HttpPostOnError::drop});
    HttpPostStage* post = stage.get();
    Pipeline p("p", one_stage(std::move(stage)), source, {.workers = 1, .batch_size = 25});
    p.run(svc);
    EXPECT_EQ(source.acked(), 25U);
    EXPECT_EQ(post->events_dropped(), 25U);
    EXPECT_EQ(collector.requests(), 3);
}

TEST_F(HttpPostStageTest, EventsContinueAlongTheDefaultRoute) {
    Collector collector;
    std::atomic<int> after{0};
    Graph g;
    g.add_stage("post", std::make_unique<HttpPostStage>(
                            HttpPostOptions{.client = client_for(collector), .target = "/ingest"}));
    g.add_stage("count", std::make_unique<testing::LambdaStage>([&](Event&, TaskContext&) {
                    ++after;
                    return kActionDefault;
                }));
    g.route("post", "default", "count");
    TestSource source(12);
    Scope svc = root();
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 5});
    p.run(svc);
    EXPECT_EQ(after.load(), 12);
    EXPECT_EQ(collector.received().size(), 12U);
}

TEST_F(HttpPostStageTest, RegistryBuildsTheStageFromResources) {
    Collector collector;
    Resources resources;
    resources.add("collector", client_for(collector));
    resources.add("not_http", std::make_shared<int>(1));
    StageRegistry registry;
    register_http_stages(registry, resources);
    ASSERT_TRUE(registry.contains("http_post"));

    EventParser parser;
    auto options = [&](std::string_view json) {
        Event e;
        EXPECT_TRUE(parser.parse(json, e));
        return e;
    };
    auto stage =
        registry.create("http_post",
                        options(R"({"resource":"collector","path":"/ingest","batch_size":4,)"
                                R"("headers":{"X-Source":"orders"}})"),
                        "graph.stages.post");
    TestSource source(9);
    Scope svc = root();
    Pipeline p("p", one_stage(std::move(stage)), source, {.workers = 1, .batch_size = 9});
    p.run(svc);
    EXPECT_EQ(collector.received().size(), 9U);
    EXPECT_EQ(collector.max_batch(), 4U);
    EXPECT_EQ(collector.source_header(), "orders");

    auto expect_config_error = [&](std::string_view json, const std::string& where_part) {
        try {
            (void)registry.create("http_post", options(json), "graph.stages.post");
            ADD_FAILURE() << "accepted: " << json;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(where_part), std::string::npos) << e.what();
        }
    };
    expect_config_error(R"({"resource":"nope","path":"/x"})", "no resource named 'nope'");
    expect_config_error(R"({"resource":"not_http","path":"/x"})", "not of the kind");
    expect_config_error(R"({"resource":"collector"})", "exactly one of 'url' and 'path'");
    expect_config_error(R"({"resource":"collector","path":"/x","url":"http://h/x"})",
                        "exactly one");
    expect_config_error(R"({"resource":"collector","path":"/x","batch_size":0})", "batch_size");
    expect_config_error(R"({"resource":"collector","path":"/x","on_error":"retry"})", "on_error");
    expect_config_error(R"({"resource":"collector","path":"/x","headers":{"X":1}})", "headers.X");
    expect_config_error(R"({"resource":"collector","path":"/x","batchsize":3})",
                        "did you mean 'batch_size'");
}

TEST_F(HttpPostStageTest, ConstructorRejectsBadOptions) {
    Collector collector;
    auto client = client_for(collector);
    EXPECT_THROW(HttpPostStage({.target = "/x"}), ConfigError);
    EXPECT_THROW(HttpPostStage({.client = client}), ConfigError);
    EXPECT_THROW(HttpPostStage({.client = client, .target = "x"}), ConfigError);
    EXPECT_THROW(HttpPostStage({.client = client, .target = "/x", .batch_size = 0}), ConfigError);
    auto bare = http::Client::create({.name = "bare"});
    EXPECT_THROW(HttpPostStage({.client = bare, .target = "/x"}), ConfigError);
    EXPECT_NO_THROW(HttpPostStage({.client = bare, .target = collector.url() + "/ingest"}));
}

}  // namespace
}  // namespace scopeflow
