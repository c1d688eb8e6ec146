// PostgreSQL restarted under a running pipeline with a sql_lookup stage: every event still
// reaches the sink (retries ride out the outage), none is dead-lettered or nacked, and the pool
// recovers; and stopped during an outage, a sql_upsert pipeline nacks its batches instead of
// dead-lettering them. Runs alone (RUN_SERIAL): it takes the server away from everyone.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/stages/sql_stages.h>

#include "integration/postgres_test_support.h"
#include "integration/server_support.h"
#include "support/eventually.h"
#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

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
    testing::TestSource source(kEvents);
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
        ASSERT_TRUE(testing::eventually([&] { return sunk.load() >= 300; }, 30s, 5ms));
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
    EXPECT_TRUE(testing::nothing_live(iso.ledger));
}

// Starts the server again however the test ends: the other tests need it.
struct RestartPostgresAtExit {
    ~RestartPostgresAtExit() {
        try {
            testing::servers_command("start-postgres");
        } catch (...) {  // NOLINT(bugprone-empty-catch): the next test reports a dead server
        }
    }
};

std::uint64_t count_rows(const std::string& table) {
    auto c = pg::Connection::open(testing::pg_options());
    const auto r = c.exec("SELECT count(*) FROM " + table, {});
    return std::stoull(std::string(r.value(0, 0)));
}

// sql_lookup (a NodeStage retrying per event) or sql_upsert (a batch retried in end_batch),
// stopped while PostgreSQL is down.
class PgOutage : public ::testing::TestWithParam<bool> {};

TEST_P(PgOutage, AStopDuringAnOutageNacksTheEventsAndARestartWritesThem) {
    SCOPEFLOW_NEED_POSTGRES();
    const bool lookup = GetParam();
    testing::Isolated iso;
    testing::ScratchTables tables;
    const auto t = tables.create("sf_outage", "k int PRIMARY KEY");
    constexpr std::uint64_t kEvents = 40;
    std::atomic<std::uint64_t> dead{0};
    const RetryPolicy retry{.max_attempts = 1000, .initial_backoff = 20ms, .max_backoff = 200ms};
    auto pipeline_into = [&](Scope& root, const std::shared_ptr<sql::Database>& db,
                             testing::TestSource& source) {
        Graph g;
        if (lookup) {
            g.add_stage("lookup", std::make_unique<SqlLookupStage>(
                                      SqlLookupOptions{.database = db,
                                                       .query = "SELECT $1::int AS checked",
                                                       .params = {"n"},
                                                       .retry = retry}));
            g.route("lookup", "default", "upsert");
        }
        g.add_stage("upsert",
                    std::make_unique<SqlUpsertStage>(SqlUpsertOptions{
                        .database = db,
                        .query = "INSERT INTO " + t + " VALUES ($1::int) ON CONFLICT DO NOTHING",
                        .params = {"n"},
                        .retry = retry}));
        g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event&, TaskContext&) {
                        dead.fetch_add(1);
                        return kActionDefault;
                    }));
        g.set_dead_letter("dlq");
        auto p = std::make_unique<Pipeline>("outage", std::move(g), source,
                                            PipelineOptions{.workers = 2, .batch_size = 8});
        p->start(root);
        return p;
    };
    {
        RestartPostgresAtExit restart;
        testing::servers_command("stop-postgres");
        Scope root{"svc", {.monitor = &iso.monitor}};
        auto db = pg::make_postgres_database(
            {.name = "outage-db", .max_size = 2, .acquire_timeout = 500ms}, testing::pg_options());
        testing::TestSource source(kEvents);
        auto p = pipeline_into(root, db, source);
        std::this_thread::sleep_for(700ms);  // every worker is retrying by now
        p->request_stop();                   // SIGTERM during the outage
        p->wait();
        const PipelineStats s = p->stats();
        EXPECT_GT(s.read, 0U);
        EXPECT_EQ(dead.load(), 0U) << "a stop is not a failure of the events";
        EXPECT_EQ(s.dead_lettered, 0U);
        EXPECT_EQ(s.failed, 0U);
        EXPECT_EQ(s.interrupted, s.read);
        EXPECT_EQ(source.acked(), 0U);
        EXPECT_EQ(source.nacked(), s.read);
        EXPECT_NE(source.last_nack_reason().find("stopped while"), std::string::npos)
            << source.last_nack_reason();
        (void)db->close(1s);
        root.close();
    }
    // The restart: the same events are offered again (nothing was acked) and written.
    {
        Scope root{"svc", {.monitor = &iso.monitor}};
        auto db =
            pg::make_postgres_database({.name = "outage-db", .max_size = 2}, testing::pg_options());
        testing::TestSource source(kEvents);
        auto p = pipeline_into(root, db, source);
        p->wait();
        EXPECT_EQ(source.acked(), kEvents);
        EXPECT_EQ(dead.load(), 0U);
        EXPECT_EQ(count_rows(t), kEvents);
        EXPECT_TRUE(db->close(1s).clean());
        root.close();
    }
    EXPECT_TRUE(testing::nothing_live(iso.ledger));
}

std::string stage_name(const ::testing::TestParamInfo<bool>& p) {
    return p.param ? "Lookup" : "Upsert";
}

INSTANTIATE_TEST_SUITE_P(Stages, PgOutage, ::testing::Values(false, true), stage_name);

}  // namespace
}  // namespace scopeflow
