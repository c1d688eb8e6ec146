// PostgreSQL restarted under a running pipeline with a sql_lookup stage: every event still
// reaches the sink (retries ride out the outage), none is dead-lettered or nacked, and the pool
// recovers. Runs alone (RUN_SERIAL): it takes the server away from everyone.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/graph.h>
#include <scopeflow/pipeline.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/scope.h>
#include <scopeflow/stages/sql_stages.h>

#include "integration/postgres_test_support.h"
#include "integration/server_support.h"
#include "unit/engine_support.h"
#include "unit/test_support.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

TEST(PgRestart, LookupPipelineLosesNoEventAcrossAServerRestart) {
    SCOPEFLOW_NEED_POSTGRES();
    testing::Isolated iso;
    testing::ScratchTables tables;
    const auto t = tables.create("sf_restart", "k int PRIMARY KEY, v text NOT NULL");
    {
        auto c = pg::Connection::open(testing::pg_options());
        (void)c.exec("INSERT INTO " + t + " SELECT g, 'v' || g FROM generate_series(0, 999) g", {});
    }
    std::atomic<std::uint64_t> sunk{0};
    std::atomic<std::uint64_t> wrong{0};
    std::atomic<std::uint64_t> dead{0};
    std::mutex error_mu;
    std::string first_error;  // guarded by error_mu: why the first dead-lettered event failed
    // Finite, and run to its end: a stop requested while a lookup backs off would cancel the
    // retry (NodeStage's rule), which is not what this test is about.
    constexpr std::uint64_t kEvents = 20000;
    testing::CountingSource source(kEvents);
    {
        Scope root{"svc", {.monitor = &iso.monitor}};
        auto db = pg::make_postgres_database({.name = "restart-db", .max_size = 2},
                                             testing::pg_options());
        auto lookup = std::make_unique<SqlLookupStage>(SqlLookupOptions{
            .database = db,
            .query = "SELECT v FROM " + t + " WHERE k = $1::int % 1000",
            .params = {"n"},
            .into = "v",
            .on_missing = OnMissing::error,
            .retry = {.max_attempts = 60, .initial_backoff = 20ms, .max_backoff = 250ms}});
        SqlLookupStage* stage = lookup.get();
        Graph g;
        g.add_stage("lookup", std::move(lookup));
        g.add_stage("sink", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                        const auto n = e.get_int("n").value_or(-1);
                        if (e.get_string("v") != "v" + std::to_string(n % 1000)) {
                            wrong.fetch_add(1);
                        }
                        sunk.fetch_add(1);
                        return kActionDefault;
                    }));
        g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                        if (dead.fetch_add(1) == 0) {
                            std::lock_guard lock(error_mu);
                            first_error = std::string(e.get_string("_error").value_or("?"));
                        }
                        return kActionDefault;
                    }));
        g.route("lookup", "default", "sink");
        g.set_dead_letter("dlq");
        g.validate();
        Pipeline p("restart", std::move(g), source, {.workers = 2, .batch_size = 16});
        p.start(root);
        ASSERT_TRUE(wait_until([&] { return sunk.load() >= 300; }, 30s));
        testing::servers_command("restart-postgres");
        p.wait();  // the input runs out
        const PipelineStats s = p.stats();
        EXPECT_EQ(s.read, kEvents);
        EXPECT_EQ(s.completed, s.read);
        EXPECT_EQ(s.dead_lettered, 0U) << first_error;
        EXPECT_EQ(s.failed, 0U);
        EXPECT_EQ(source.acked(), s.read);
        EXPECT_EQ(source.nacked(), 0U);
        EXPECT_EQ(sunk.load(), s.read);
        EXPECT_GE(stage->retries(), 1U);  // the outage was seen, and ridden out
        EXPECT_TRUE(db->ping(root));      // the pool recovered
        EXPECT_GE(db->pool_stats().destroyed, 1U);
        EXPECT_TRUE(db->close(1s).clean());
        root.close();
    }
    EXPECT_EQ(wrong.load(), 0U);
    EXPECT_EQ(dead.load(), 0U);
    EXPECT_EQ(iso.ledger.live_total(), 0U);
}

}  // namespace
}  // namespace scopeflow
