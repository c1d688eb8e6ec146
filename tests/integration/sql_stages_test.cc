// sql_lookup and sql_upsert over a real PostgreSQL database: enrichment, missing rows, retries
// after a terminated backend, batched upserts acked only after their commit.
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/resources.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/log.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/stages/sql_stages.h>

#include "integration/postgres_test_support.h"
#include "integration/server_support.h"
#include "support/lambda_stage.h"
#include "support/leak_check.h"
#include "support/test_source.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using testing::pg_options;

class SqlStagesTest : public testing::LeakCheckedTest {
protected:
    SqlStagesTest()
        : LeakCheckedTest("svc") {}
    void SetUp() override {
        SCOPEFLOW_NEED_POSTGRES();
        customers_ = tables_.create("sf_customers", "id int PRIMARY KEY, name text, tier text");
        auto c = pg::Connection::open(pg_options());
        (void)c.exec("INSERT INTO " + customers_ + " VALUES (1, 'ann', 'gold'), (2, 'bob', NULL)",
                     {});
        db_ = pg::make_postgres_database(
            {.name = "crm", .max_size = 2, .validate_if_idle_for = std::chrono::hours(1)},
            pg_options());
        resources_.add("crm", db_);
        register_sql_stages(registry_, resources_);
    }
    void TearDown() override {
        stage_.reset();
        resources_.clear();
        db_.reset();
        worker_.close();
        LeakCheckedTest::TearDown();
    }

    Stage& lookup(const std::string& into, const std::string& on_missing = "keep") {
        StageOptions o{{"resource", "crm"},
                       {"query", "SELECT name, tier FROM " + customers_ + " WHERE id = $1"},
                       {"params", "customer_id"},
                       {"into", into},
                       {"on_missing", on_missing}};
        return open(registry_.create("sql_lookup", o, "graph.stages.enrich"));
    }
    Stage& open(std::unique_ptr<Stage> s) {
        stage_ = std::move(s);
        stage_->open(root_, 1);
        stage_->open_worker(worker_, 0);
        return *stage_;
    }

    Scope worker_ = root_.child("worker-0");
    TaskContext task_{worker_, 0, {}};
    testing::ScratchTables tables_;
    std::string customers_;
    std::shared_ptr<sql::Database> db_;
    Resources resources_;
    StageRegistry registry_;
    std::unique_ptr<Stage> stage_;
};

TEST_F(SqlStagesTest, LookupEnrichesWithPrefixedColumns) {
    Stage& s = lookup("customer_");
    Event e{{"customer_id", 1}, {"amount", 9.5}};
    EXPECT_EQ(s.process(e, task_), kActionDefault);
    EXPECT_EQ(to_json(e), R"({"customer_id":1,"amount":9.5,"customer_name":"ann",)"
                          R"("customer_tier":"gold"})");
    Event nulls{{"customer_id", "2"}};  // a string binds too
    EXPECT_EQ(s.process(nulls, task_), kActionDefault);
    EXPECT_EQ(to_json(nulls), R"({"customer_id":"2","customer_name":"bob","customer_tier":null})");
}

TEST_F(SqlStagesTest, LookupIntoATargetField) {
    Stage& s = lookup("customer");
    Event e{{"customer_id", 1}};
    EXPECT_EQ(s.process(e, task_), kActionDefault);
    EXPECT_EQ(to_json(e), R"({"customer_id":1,"customer":{"name":"ann","tier":"gold"}})");

    StageOptions one{{"resource", "crm"},
                     {"query", "SELECT name FROM " + customers_ + " WHERE id = $1"},
                     {"params", "customer_id"},
                     {"into", "who"}};
    Stage& single = open(registry_.create("sql_lookup", one, "graph.stages.who"));
    Event f{{"customer_id", 2}};
    EXPECT_EQ(single.process(f, task_), kActionDefault);
    EXPECT_EQ(f.get_string("who"), "bob");
}

TEST_F(SqlStagesTest, MissingRowKeepsDropsOrFails) {
    Event missing{{"customer_id", 99}};
    EXPECT_EQ(lookup("c_", "keep").process(missing, task_), kActionDefault);
    EXPECT_EQ(to_json(missing), R"({"customer_id":99})");
    EXPECT_EQ(lookup("c_", "drop").process(missing, task_), kActionDrop);
    Event no_field{{"other", 1}};  // NULL parameter: no row either
    EXPECT_EQ(lookup("c_", "drop").process(no_field, task_), kActionDrop);
    try {
        (void)lookup("c_", "error").process(missing, task_);
        ADD_FAILURE() << "a missing row did not fail";
    } catch (const Error& e) {
        EXPECT_EQ(dynamic_cast<const TransientError*>(&e), nullptr);
        EXPECT_NE(std::string(e.what()).find("crm"), std::string::npos);
    }
}

TEST_F(SqlStagesTest, FactoriesRejectBadOptions) {
    StageOptions unknown{{"resource", "nope"}, {"query", "SELECT 1"}};
    try {
        (void)registry_.create("sql_lookup", unknown, "graph.stages.x");
        ADD_FAILURE();
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "graph.stages.x.resource");
        EXPECT_NE(std::string(e.what()).find("crm"), std::string::npos);  // lists the known ones
    }
    StageOptions bad{{"resource", "crm"}, {"query", "SELECT 1"}, {"on_missing", "ignore"}};
    EXPECT_THROW((void)registry_.create("sql_lookup", bad, "x"), ConfigError);
    StageOptions typo{{"resource", "crm"}, {"query", "SELECT 1"}, {"param", "a"}};
    EXPECT_THROW((void)registry_.create("sql_upsert", typo, "x"), ConfigError);
}

TEST_F(SqlStagesTest, TerminatedBackendCostsTheLookupOneRetry) {
    auto& s = dynamic_cast<SqlLookupStage&>(lookup("c_"));
    Event first{{"customer_id", 1}};
    EXPECT_EQ(s.process(first, task_), kActionDefault);
    // The idle connection the next lookup will lease (the pool lends the warmest first).
    const auto pid = db_->query(root_, "SELECT pg_backend_pid()", {});
    auto admin = pg::Connection::open(pg_options());
    EXPECT_EQ(
        admin.exec("SELECT pg_terminate_backend($1::int, 5000)", {{*pid.rows[0][0]}}).value(0, 0),
        "t");
    Event second{{"customer_id", 1}};
    EXPECT_EQ(s.process(second, task_), kActionDefault);
    EXPECT_EQ(second.get_string("c_name"), "ann");
    EXPECT_EQ(s.retries(), 1U);
    EXPECT_EQ(db_->pool_stats().broken, 1U);
}

// Rows {"k": i, "v": "value-i"} from a TestSource which, when the engine acks one, checks that
// its row is already committed.
class CommitCheck {
public:
    CommitCheck(std::uint64_t total, std::string table)
        : source(total,
                 [](Event& e, std::uint64_t i) {
                     e.set("k", static_cast<std::int64_t>(i));
                     e.set("v", "value-" + std::to_string(i));
                 }),
          table_(std::move(table)),
          conn_(pg::Connection::open(pg_options())) {
        source.on_ack([this](std::uint64_t sequence) {
            std::lock_guard lock(mu_);
            const auto r = conn_.exec("SELECT count(*) FROM " + table_ + " WHERE k = $1",
                                      {{std::to_string(sequence)}});
            if (r.value(0, 0) != "1") {
                ++acked_before_commit_;
            }
        });
    }

    std::uint64_t acked_before_commit() const {
        std::lock_guard lock(mu_);
        return acked_before_commit_;
    }

    testing::TestSource source;

private:
    const std::string table_;
    mutable std::mutex mu_;
    pg::Connection conn_;                    // guarded by mu_
    std::uint64_t acked_before_commit_ = 0;  // guarded by mu_
};

TEST_F(SqlStagesTest, UpsertWritesEachBatchInOneTransactionAndAcksAfterCommit) {
    const auto t = tables_.create("sf_upsert", "k int PRIMARY KEY, v text NOT NULL");
    StageOptions o{{"resource", "crm"},
                   {"query", "INSERT INTO " + t +
                                 " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
                                 "excluded.v"},
                   {"params", "k, v"}};
    auto stage = registry_.create("sql_upsert", o, "graph.stages.store");
    auto* upsert = dynamic_cast<SqlUpsertStage*>(stage.get());
    Graph g;
    g.add_stage("store", std::move(stage));
    g.validate();
    CommitCheck check(300, t);
    {
        Pipeline p("store", std::move(g), check.source, {.workers = 2, .batch_size = 50});
        p.run(root_);
        EXPECT_EQ(p.stats().completed, 300U);
        EXPECT_EQ(upsert->written(), 300U);  // the pipeline owns the stage
    }
    EXPECT_EQ(check.source.acked(), 300U);
    EXPECT_EQ(check.source.nacked(), 0U);
    EXPECT_EQ(check.acked_before_commit(), 0U);
    const auto r = db_->query(root_, "SELECT count(*), count(DISTINCT xmin::text) FROM " + t, {});
    EXPECT_EQ(r.rows[0][0], "300");
    EXPECT_EQ(r.rows[0][1], "6");  // one transaction per batch of 50
}

TEST_F(SqlStagesTest, FailedUpsertNacksItsWholeBatch) {
    const auto t = tables_.create("sf_upsert", "k int PRIMARY KEY CHECK (k <> 120), v text");
    StageOptions o{{"resource", "crm"},
                   {"query", "INSERT INTO " + t + " (k, v) VALUES ($1, $2)"},
                   {"params", "k, v"}};
    Graph g;
    g.add_stage("store", registry_.create("sql_upsert", o, "graph.stages.store"));
    g.validate();
    CommitCheck check(300, t);
    {
        Pipeline p("store", std::move(g), check.source, {.workers = 2, .batch_size = 50});
        p.run(root_);
    }
    EXPECT_EQ(check.source.nacked(), 50U);  // the batch holding k = 120, all of it
    EXPECT_EQ(check.source.acked(), 250U);
    EXPECT_EQ(check.acked_before_commit(), 0U);
    const auto r =
        db_->query(root_, "SELECT count(*) FROM " + t + " WHERE k BETWEEN 100 AND 149", {});
    EXPECT_EQ(r.rows[0][0], "0");
}

TEST_F(SqlStagesTest, FailedUpsertDeadLettersItsBatchWhichIsThenAcked) {
    const auto t = tables_.create("sf_upsert_dl", "k int PRIMARY KEY CHECK (k <> 120), v text");
    StageOptions o{{"resource", "crm"},
                   {"query", "INSERT INTO " + t + " (k, v) VALUES ($1, $2)"},
                   {"params", "k, v"}};
    std::mutex mu;
    std::set<std::int64_t> dead;
    std::string reason;
    Graph g;
    g.add_stage("store", registry_.create("sql_upsert", o, "graph.stages.store"));
    g.add_stage("dlq", std::make_unique<testing::LambdaStage>([&](Event& e, TaskContext&) {
                    std::lock_guard lock(mu);
                    dead.insert(e.get_int("k").value_or(-1));
                    reason = std::string(e.get_string("_error").value_or(""));
                    return kActionDefault;
                }));
    g.set_dead_letter("dlq");
    g.validate();
    CommitCheck check(300, t);
    {
        Pipeline p("store", std::move(g), check.source, {.workers = 2, .batch_size = 50});
        p.run(root_);
    }
    EXPECT_EQ(check.source.nacked(), 0U);
    EXPECT_EQ(check.source.acked(), 300U);
    // The 50 events of the rolled-back batch reached the dead-letter stage, each once; they are
    // the only ones acked without their row (it was never committed).
    ASSERT_EQ(dead.size(), 50U);
    EXPECT_EQ(*dead.begin(), 100);
    EXPECT_EQ(*dead.rbegin(), 149);
    EXPECT_EQ(check.acked_before_commit(), 50U);
    EXPECT_NE(reason.find("upsert failed"), std::string::npos) << reason;
    const auto r = db_->query(root_, "SELECT count(*) FROM " + t, {});
    EXPECT_EQ(r.rows[0][0], "250");
}

TEST_F(SqlStagesTest, AWrongPasswordIsLoggedAsAnErrorNamingTheStageNeverThePassword) {
    const std::string wrong = "wrong-password-7f3a9c";
    pg::ConnectionOptions bad = pg_options();
    bad.password = Secret(wrong);
    auto db = pg::make_postgres_database({.name = "crm-bad", .max_size = 1}, bad);
    std::mutex mu;
    std::vector<std::pair<LogLevel, std::string>> lines;
    set_log_sink([&](LogLevel level, std::string_view line) {
        std::lock_guard lock(mu);
        lines.emplace_back(level, line);
    });
    testing::TestSource source(30);
    {
        Graph g;
        g.add_stage("orders_db", std::make_unique<SqlUpsertStage>(SqlUpsertOptions{
                                     .database = db,
                                     .query = "INSERT INTO " + customers_ + " VALUES ($1::int)",
                                     .params = {"n"}}));
        Pipeline p("main", std::move(g), source, {.workers = 1, .batch_size = 10});
        p.run(root_);
        EXPECT_EQ(p.stats().failed, 30U);
    }
    set_log_sink({});
    (void)db->close(1s);
    ASSERT_FALSE(lines.empty()) << "a wrong password must be seen in the log";
    bool named = false;
    for (const auto& [level, line] : lines) {
        EXPECT_EQ(line.find(wrong), std::string::npos) << line;
        named = named ||
                (level == LogLevel::error && line.find("stage 'orders_db'") != std::string::npos &&
                 line.find("authentication failed") != std::string::npos);
    }
    EXPECT_TRUE(named) << lines.front().second;
    EXPECT_LE(lines.size(), 3U) << "one line, then a count";
}

}  // namespace
}  // namespace scopeflow
