// The redis stage against a real server: get/set/incr/incrby/hget/hset, batched writes,
// errors, configuration through the registry, and a pipeline that rides out a server restart.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/redis/stages/redis_stage.h>
#include <scopeflow/sources/generator_source.h>

#include "integration/redis_support.h"
#include "support/lambda_stage.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::redis_options;

// Drives one stage by hand, as one worker of a pipeline would.
class Driver {
public:
    Driver(Scope& root, Stage& stage)
        : stage_(stage),
          stage_scope_(root.child("redis")),
          worker_scope_(stage_scope_.child("worker-0")),
          worker_root_(root.child("worker-0")),
          task_(worker_root_, 0, stop_.get_token()) {
        stage_.open(stage_scope_, 1);
        stage_.open_worker(worker_scope_, 0);
    }
    ActionId process(Event& e) {
        task_.begin_task(++sequence_);
        const ActionId a = stage_.process(e, task_);
        task_.end_task();
        return a;
    }
    void end_batch() { stage_.end_batch(0); }

private:
    Stage& stage_;
    std::stop_source stop_;
    Scope stage_scope_;
    Scope worker_scope_;
    Scope worker_root_;
    TaskContext task_;
    std::uint64_t sequence_ = 0;
};

class RedisStageTest : public testing::RedisTest {
protected:
    void SetUp() override {
        testing::RedisTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        client_ = std::make_shared<redis::Client>(PoolOptions{.name = "cache", .max_size = 4},
                                                  redis_options(6));
        admin_ = redis::Connection::open(redis_options(6));
        admin_.command({"FLUSHDB"});
    }
    void TearDown() override {
        if (client_) {
            EXPECT_TRUE(client_->close(2s).clean());
        }
        testing::RedisTest::TearDown();
    }

    std::shared_ptr<redis::Client> client_;
    redis::Connection admin_;
};

TEST_F(RedisStageTest, SetBuffersWritesAndSendsThemInOneRoundTripPerBatch) {
    RedisStage stage({.client = client_,
                      .command = RedisCommand::set,
                      .key = "user:${user}",
                      .value = "name",
                      .ttl = 60s});
    Driver d(root_, stage);
    for (int i = 0; i < 10; ++i) {
        Event e{{"user", i}, {"name", "n-" + std::to_string(i)}};
        EXPECT_EQ(d.process(e), kActionDefault);
    }
    EXPECT_TRUE(admin_.command({"GET", "user:3"}).is_nil());  // not yet: buffered
    d.end_batch();
    EXPECT_EQ(stage.round_trips(), 1U);
    EXPECT_EQ(stage.commands(), 10U);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(admin_.command({"GET", "user:" + std::to_string(i)}).str(),
                  "n-" + std::to_string(i));
    }
    const std::int64_t ttl = admin_.command({"PTTL", "user:3"}).integer();
    EXPECT_GT(ttl, 50'000);
    EXPECT_LE(ttl, 60'000);
    d.end_batch();  // nothing buffered: no round trip
    EXPECT_EQ(stage.round_trips(), 1U);
}

TEST_F(RedisStageTest, GetWritesTheValueOrNullIntoTheEvent) {
    admin_.command({"SET", "profile:u1", "gold"});
    RedisStage stage({.client = client_,
                      .command = RedisCommand::get,
                      .key = "profile:${user}",
                      .into = "tier"});
    Driver d(root_, stage);
    Event hit{{"user", "u1"}};
    Event miss{{"user", "u2"}};
    d.process(hit);
    d.process(miss);
    EXPECT_EQ(hit.get_string("tier"), "gold");
    const Value* tier = miss.find("tier");
    EXPECT_TRUE(tier != nullptr && tier->is_null());
    EXPECT_EQ(stage.round_trips(), 2U);  // reads are per event
}

TEST_F(RedisStageTest, IncrCountsAndReturnsTheCountWithInto) {
    RedisStage buffered(
        {.client = client_, .command = RedisCommand::incr, .key = "hits:${page}", .ttl = 10s});
    RedisStage counted({.client = client_,
                        .command = RedisCommand::incrby,
                        .key = "bytes:${page}",
                        .value = "size",
                        .into = "total"});
    Driver d1(root_, buffered);
    Driver d2(root_, counted);
    for (int i = 0; i < 5; ++i) {
        Event e{{"page", "home"}, {"size", 100}};
        d1.process(e);
        d2.process(e);
        EXPECT_EQ(e.get_int("total"), 100 * (i + 1));
    }
    d1.end_batch();
    EXPECT_EQ(admin_.command({"GET", "hits:home"}).str(), "5");
    EXPECT_GT(admin_.command({"PTTL", "hits:home"}).integer(), 0);  // PEXPIRE went with it
    EXPECT_EQ(buffered.commands(), 10U);                            // 5 INCR + 5 PEXPIRE
    EXPECT_EQ(buffered.round_trips(), 1U);
}

TEST_F(RedisStageTest, HashSetAndGet) {
    RedisStage hset({.client = client_,
                     .command = RedisCommand::hset,
                     .key = "h:${user}",
                     .field = "f:${kind}",
                     .value = "v",
                     .pipeline = false});
    RedisStage hget({.client = client_,
                     .command = RedisCommand::hget,
                     .key = "h:${user}",
                     .field = "f:${kind}",
                     .into = "got"});
    Driver d1(root_, hset);
    Driver d2(root_, hget);
    Event e{{"user", "u9"}, {"kind", "click"}, {"v", 2.5}};
    d1.process(e);  // pipeline: false: written at once
    EXPECT_EQ(admin_.command({"HGET", "h:u9", "f:click"}).str(), "2.5");
    d2.process(e);
    EXPECT_EQ(e.get_string("got"), "2.5");
}

TEST_F(RedisStageTest, ErrorsFailOrSkipPerOnError) {
    admin_.command({"SET", "list:x", "not a list"});
    admin_.command({"SET", "n:x", "not a number"});
    // Per event: WRONGTYPE-like errors throw (-> the error route), not retried.
    RedisStage failing(
        {.client = client_, .command = RedisCommand::incr, .key = "n:${k}", .into = "n"});
    Driver d1(root_, failing);
    Event e{{"k", "x"}};
    EXPECT_THROW(d1.process(e), redis::CommandError);
    EXPECT_EQ(client_->retries(), 0U);
    Event no_key{{"other", 1}};
    EXPECT_THROW(d1.process(no_key), Error);
    // skip: the event goes on unchanged.
    RedisStage skipping({.client = client_,
                         .command = RedisCommand::incr,
                         .key = "n:${k}",
                         .into = "n",
                         .on_error = RedisOnError::skip});
    Driver d2(root_, skipping);
    Event e2{{"k", "x"}};
    EXPECT_EQ(d2.process(e2), kActionDefault);
    EXPECT_FALSE(e2.contains("n"));
    EXPECT_EQ(skipping.skipped(), 1U);
    // Buffered: a failed command fails its event alone at end_batch (BatchContext::fail: to
    // the dead-letter stage, else nacked); outside a pipeline end_batch throws for it.
    RedisStage batch({.client = client_, .command = RedisCommand::incr, .key = "n:${k}"});
    Driver d3(root_, batch);
    Event ok{{"k", "fine"}};
    Event bad{{"k", "x"}};
    d3.process(ok);
    d3.process(bad);
    try {
        d3.end_batch();
        FAIL();
    } catch (const BatchError& err) {
        EXPECT_NE(std::string(err.what())
                      .find("1 event(s) of the batch failed; first: stage "
                            "'redis' on cache: INCR failed: ERR"),
                  std::string::npos)
            << err.what();
    }
    d3.end_batch();  // the failed batch is not sent again
    EXPECT_EQ(admin_.command({"GET", "n:fine"}).str(), "1");
}

TEST_F(RedisStageTest, RetriesAKilledConnectionWithoutTheEventSeeingIt) {
    RedisStage stage(
        {.client = client_, .command = RedisCommand::incr, .key = "k:${k}", .into = "n"});
    Driver d(root_, stage);
    Event e{{"k", "a"}};
    d.process(e);
    auto admin = redis::Connection::open(redis_options());
    admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    Event e2{{"k", "a"}};
    EXPECT_NO_THROW(d.process(e2));
    EXPECT_EQ(e2.get_int("n"), 2);
    EXPECT_EQ(client_->retries(), 1U);
}

TEST_F(RedisStageTest, RegistryBuildsAndValidatesTheStage) {
    Resources resources;
    resources.add("cache", client_);
    resources.add("other", std::make_shared<int>(1));
    StageRegistry registry;
    register_redis_stages(registry, resources);
    Event o{{"resource", "cache"},
            {"command", "set"},
            {"key", "r:${id}"},
            {"value", "v"},
            {"ttl_ms", 1000}};
    auto stage = registry.create("redis", o, "graph.stages.cache_it");
    ASSERT_NE(stage, nullptr);
    auto config_error = [&](Event options) -> std::string {
        try {
            (void)registry.create("redis", options, "graph.stages.s");
        } catch (const ConfigError& e) {
            return e.where();
        }
        return "no error";
    };
    EXPECT_EQ(config_error({{"resource", "nope"}, {"command", "get"}, {"key", "k"}}),
              "graph.stages.s.resource");
    EXPECT_EQ(config_error({{"resource", "other"}, {"command", "get"}, {"key", "k"}}),
              "graph.stages.s.resource");
    EXPECT_EQ(config_error({{"resource", "cache"}, {"command", "del"}, {"key", "k"}}),
              "graph.stages.s.command");
    EXPECT_EQ(config_error({{"resource", "cache"}, {"command", "get"}, {"key", "k"}}),
              "graph.stages.s.into");
    EXPECT_EQ(config_error({{"resource", "cache"}, {"command", "set"}, {"key", "k"}}),
              "graph.stages.s.value");
    EXPECT_EQ(
        config_error({{"resource", "cache"}, {"command", "get"}, {"key", "a:${"}, {"into", "x"}}),
        "graph.stages.s.key");
    EXPECT_EQ(
        config_error(
            {{"resource", "cache"}, {"command", "incr"}, {"key", "k"}, {"on_error", "ignore"}}),
        "graph.stages.s.on_error");
    EXPECT_EQ(config_error({{"resource", "cache"}, {"command", "incr"}, {"key", "k"}, {"ttl", 5}}),
              "graph.stages.s.ttl");
}

// Records the "n" of every event that reaches it.
class Collect final : public Stage {
public:
    Collect()
        : Stage("collect") {}
    std::set<std::int64_t> seen() const {
        std::lock_guard lock(mu_);
        return seen_;
    }
    std::int64_t max() const {
        std::lock_guard lock(mu_);
        return seen_.empty() ? -1 : *seen_.rbegin();
    }

protected:
    ActionId on_process(Event& e, TaskContext&) override {
        std::lock_guard lock(mu_);
        seen_.insert(e.get_int("n").value_or(-1));
        return kActionDefault;
    }

private:
    mutable std::mutex mu_;
    std::set<std::int64_t> seen_;
};

TEST_F(RedisStageTest, PipelineOfEventsThroughTheStage) {
    GeneratorSource source({.count = 2000});
    Graph g;
    auto* redis_stage = new RedisStage(
        {.client = client_, .command = RedisCommand::set, .key = "ev:${n}", .value = "n"});
    g.add_stage("cache", std::unique_ptr<Stage>(redis_stage));
    auto* collect = new Collect();
    g.add_stage("collect", std::unique_ptr<Stage>(collect));
    g.route("cache", "default", "collect");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 100});
    p.run(root_);
    EXPECT_EQ(source.acked(), 2000U);
    EXPECT_EQ(source.nacked(), 0U);
    EXPECT_EQ(collect->seen().size(), 2000U);
    EXPECT_EQ(admin_.command({"DBSIZE"}).integer(), 2000);
    EXPECT_EQ(admin_.command({"GET", "ev:1234"}).str(), "1234");
    EXPECT_EQ(redis_stage->round_trips(), 20U);  // one per batch of 100
}

TEST_F(RedisStageTest, AFailedBufferedWriteFailsItsEventAloneInAPipeline) {
    for (const bool with_dead_letter : {true, false}) {
        SCOPED_TRACE(with_dead_letter ? "dead-letter stage" : "no dead-letter stage");
        admin_.command({"FLUSHDB"});
        admin_.command({"SET", "n:7", "not a number"});
        testing::TestSource source(20);
        std::mutex mu;
        std::vector<Event> dead;
        Graph g;
        g.add_stage("count",
                    std::make_unique<RedisStage>(RedisStageOptions{
                        .client = client_, .command = RedisCommand::incr, .key = "n:${n}"}));
        if (with_dead_letter) {
            g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                            std::lock_guard lock(mu);
                            dead.push_back(e);
                            return kActionDefault;
                        }));
            g.set_dead_letter("dlq");
        }
        Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 5});
        p.run(root_);

        // The other events of 7's batch were written and acked: only 7 failed.
        for (int n = 0; n < 20; ++n) {
            if (n != 7) {
                EXPECT_EQ(admin_.command({"GET", "n:" + std::to_string(n)}).str(), "1") << n;
            }
        }
        EXPECT_EQ(source.settled_twice(), 0U);
        const PipelineStats s = p.stats();
        EXPECT_EQ(s.flush_failed, 1U);
        EXPECT_EQ(s.completed, 19U);
        EXPECT_EQ(s.completed + s.dead_lettered + s.failed, s.read);
        if (with_dead_letter) {
            EXPECT_EQ(source.acked(), 20U);
            EXPECT_EQ(source.nacked(), 0U);
            std::lock_guard lock(mu);
            ASSERT_EQ(dead.size(), 1U);
            EXPECT_EQ(dead[0].get_int("n"), 7);  // the event itself, rebuilt
            EXPECT_EQ(dead[0].get_string("_failed_stage").value_or(""), "count");
            EXPECT_NE(dead[0].get_string("_error").value_or("").find(
                          "stage 'redis' on cache: INCR failed: ERR"),
                      std::string::npos)
                << dead[0].get_string("_error").value_or("");
        } else {
            EXPECT_EQ(source.acked(), 19U);
            EXPECT_EQ(source.nacked(), 1U);
            EXPECT_NE(source.last_nack_reason().find("INCR failed"), std::string::npos);
        }
    }
}

TEST_F(RedisStageTest, ServerRestartMidRunLosesNoEvents) {
    GeneratorSource source({.count = 0});  // endless, until stopped
    Graph g;
    auto* redis_stage =
        new RedisStage({.client = client_,
                        .command = RedisCommand::set,
                        .key = "ev:${n}",
                        .value = "n",
                        .retry = {.retries = 60, .backoff = 20ms, .max_backoff = 100ms}});
    g.add_stage("cache", std::unique_ptr<Stage>(redis_stage));
    auto* collect = new Collect();
    g.add_stage("collect", std::unique_ptr<Stage>(collect));
    g.route("cache", "default", "collect");
    Pipeline p("p", std::move(g), source, {.workers = 2, .batch_size = 20});
    p.start(root_);
    auto wait_for_acks = [&](std::uint64_t n) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (source.acked() < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        return source.acked() >= n;
    };
    ASSERT_TRUE(wait_for_acks(200));
    testing::servers_command("restart-redis");
    const std::uint64_t after_restart = source.acked();
    const bool progressed = wait_for_acks(after_restart + 500);
    p.request_stop();
    p.wait();
    ASSERT_TRUE(progressed);
    const PipelineStats s = p.stats();
    EXPECT_EQ(source.nacked(), 0U);
    EXPECT_EQ(s.failed, 0U);
    EXPECT_EQ(s.read, source.acked());  // every event read was written and acked
    EXPECT_EQ(collect->seen().size(), s.read);
    EXPECT_GE(client_->retries(), 1U);  // the restart was felt, and ridden out
    EXPECT_GE(client_->stats().broken, 1U);
    // Written after the restart (the server keeps nothing across one): the last event is there.
    auto admin = redis::Connection::open(redis_options(6));
    const std::string last = std::to_string(collect->max());
    EXPECT_EQ(admin.command({"GET", "ev:" + last}).str(), last);
}

}  // namespace
}  // namespace scopeflow
