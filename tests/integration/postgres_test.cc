// The PostgreSQL connector against a real server: connections, secrets, transactions, pipelined
// batches, failure classification, and the pool's behaviour with real connections (terminated
// backends, exhaustion, leaks, max lifetime). Every test ends with an empty ledger.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/postgres/transaction.h>

#include "integration/postgres_test_support.h"
#include "integration/server_support.h"
#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::pg_options;

// No lease or resource outlives a test (the leak check).
class PgTest : public testing::LeakCheckedTest {
protected:
    PgTest()
        : LeakCheckedTest("svc") {}
    void SetUp() override { SCOPEFLOW_NEED_POSTGRES(); }

    static std::int64_t count(pg::Connection& c, const std::string& table) {
        return std::stoll(std::string(c.exec("SELECT count(*) FROM " + table, {}).value(0, 0)));
    }

    testing::ScratchTables tables_;
};

TEST_F(PgTest, BindsParametersAsTextAndNull) {
    auto c = pg::Connection::open(pg_options());
    pg::Result r = c.exec("SELECT $1::int + $2::int AS sum, $3::text IS NULL AS is_null, $4::text",
                          {{"2"}, {"40"}, std::nullopt, {"it's; DROP TABLE x"}});
    ASSERT_EQ(r.rows(), 1U);
    EXPECT_EQ(r.column_name(0), "sum");
    EXPECT_EQ(r.value(0, 0), "42");
    EXPECT_EQ(r.value(0, 1), "t");
    EXPECT_EQ(r.value(0, 2), "it's; DROP TABLE x");  // bound, never spliced
    const auto& s = testing::servers().pg;
    EXPECT_EQ(c.describe(), "postgres://" + s.user + "@" + s.host + ":" + s.port + "/" + s.db);
    EXPECT_GT(c.backend_pid(), 0);
    EXPECT_FALSE(c.broken());
}

TEST_F(PgTest, PreparesEachStatementOncePerConnection) {
    auto c = pg::Connection::open(pg_options());
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(c.exec("SELECT $1::int * 2", {{std::to_string(i)}}).value(0, 0),
                  std::to_string(i * 2));
    }
    for (int i = 0; i < 3; ++i) {
        (void)c.exec("SELECT $1::text || 'x'", {{"a"}});
    }
    // The server's own count: two statements plus this query itself.
    EXPECT_EQ(c.exec("SELECT count(*) FROM pg_prepared_statements", {}).value(0, 0), "3");
    EXPECT_EQ(c.prepares(), 3U);
    // Another connection has its own cache.
    auto other = pg::Connection::open(pg_options());
    (void)other.exec("SELECT $1::int * 2", {{"1"}});
    EXPECT_EQ(other.prepares(), 1U);
}

TEST_F(PgTest, WrongPasswordFailsWithoutRevealingIt) {
    auto options = pg_options();
    const std::string wrong = "wrong-" + options.password.reveal() + "-pw-7c1e";
    options.password = Secret(wrong);
    ::testing::internal::CaptureStderr();
    std::string direct;
    try {
        (void)pg::Connection::open(options);
        ADD_FAILURE() << "connected with a wrong password";
    } catch (const pg::AuthenticationError& e) {
        direct = e.what();
    }
    auto pool = pg::make_pool({.name = "auth-db", .max_size = 1}, options);
    std::string pooled;
    try {
        auto lease = pool->acquire(root_);
        ADD_FAILURE() << "leased a connection with a wrong password";
    } catch (const Error& e) {
        pooled = e.what();
    }
    const std::string logged = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(direct.find("authentication failed"), std::string::npos) << direct;
    EXPECT_NE(direct.find(options.describe()), std::string::npos) << direct;
    for (const std::string& text : {direct, pooled, logged}) {
        EXPECT_EQ(text.find(wrong), std::string::npos) << text;
        EXPECT_EQ(text.find(pg_options().password.reveal()), std::string::npos) << text;
    }
    EXPECT_EQ(pool->stats().connect_failures, 1U);
}

TEST_F(PgTest, PasswordComesFromEnvironmentOrFile) {
    const std::string var = "SCOPEFLOW_PG_TEST_PW_" + std::to_string(::getpid());
    ::setenv(var.c_str(), pg_options().password.reveal().c_str(), 1);
    auto base = pg_options();
    base.password = Secret();
    auto from_env = pg::with_password(base, {.env = var}, "resources.db");
    EXPECT_EQ(pg::Connection::open(from_env).exec("SELECT 1", {}).value(0, 0), "1");
    ::unsetenv(var.c_str());

    const testing::TempDir dir;
    const auto file = dir / "password";
    testing::write_file(file, pg_options().password.reveal() + "\n");
    auto from_file = pg::with_password(base, {.file = file}, "resources.db");
    std::filesystem::remove(file);
    EXPECT_EQ(pg::Connection::open(from_file).exec("SELECT 1", {}).value(0, 0), "1");

    try {
        (void)pg::with_password(base, {.env = var}, "resources.db");
        ADD_FAILURE() << "an unset variable was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(var), std::string::npos);
    }
    EXPECT_THROW((void)pg::with_password(base, {}, "resources.db"), ConfigError);
    EXPECT_THROW((void)pg::with_password(base, {.env = var, .file = file}, "x"), ConfigError);
}

TEST_F(PgTest, ConnectTimeoutBoundsASilentServer) {
    // A listening socket nobody accepts on: the TCP handshake completes, the startup packet is
    // never answered.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);  // NOLINT
    ASSERT_EQ(::listen(fd, 4), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);  // NOLINT
    auto options = pg_options();
    options.port = ntohs(addr.sin_port);
    options.connect_timeout = 300ms;
    const auto start = Clock::now();
    try {
        (void)pg::Connection::open(options);
        ADD_FAILURE() << "connected to a silent socket";
    } catch (const pg::ConnectError& e) {
        EXPECT_NE(std::string(e.what()).find("within 300ms"), std::string::npos) << e.what();
    }
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 3s);
    ::close(fd);
}

TEST_F(PgTest, PoolAcquireTimeoutBoundsASlowConnect) {
    // A silent server makes libpq's connect last its whole connect_timeout (800ms); the pool's
    // acquire_timeout (200ms) must still bound acquire(), connecting included.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);  // NOLINT
    ASSERT_EQ(::listen(fd, 4), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);  // NOLINT
    auto options = pg_options();
    options.port = ntohs(addr.sin_port);
    options.connect_timeout = 800ms;
    auto pool =
        pg::make_pool({.name = "silent-db", .max_size = 2, .acquire_timeout = 200ms}, options);
    const auto start = Clock::now();
    try {
        auto lease = pool->acquire(root_);
        ADD_FAILURE() << "leased a connection to a silent socket";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("pool 'silent-db': no connection within 200ms"),
                  std::string::npos)
            << e.what();
    }
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 400ms);
    // The abandoned connect fails at its own timeout and frees its slot.
    const auto until = Clock::now() + 5s;
    while (pool->stats().connect_failures == 0 && Clock::now() < until) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(pool->stats().connect_failures, 1U);
    EXPECT_EQ(pool->stats().total, 0U);
    ::close(fd);
}

TEST_F(PgTest, TransactionCommitsExplicitly) {
    const auto t = tables_.create("sf_tx", "k int PRIMARY KEY");
    auto c = pg::Connection::open(pg_options());
    auto observer = pg::Connection::open(pg_options());
    {
        pg::Transaction tx(c);
        (void)tx.exec("INSERT INTO " + t + " VALUES ($1)", {{"1"}});
        EXPECT_EQ(count(observer, t), 0);  // not visible before commit
        tx.commit();
        EXPECT_FALSE(tx.active());
    }
    EXPECT_EQ(count(observer, t), 1);
    EXPECT_FALSE(c.in_transaction());
}

TEST_F(PgTest, TransactionRollsBackWhenDestroyedOrUnwound) {
    const auto t = tables_.create("sf_tx", "k int PRIMARY KEY");
    auto c = pg::Connection::open(pg_options());
    {
        pg::Transaction tx(c);
        (void)tx.exec("INSERT INTO " + t + " VALUES ($1)", {{"1"}});
    }
    EXPECT_FALSE(c.in_transaction());
    EXPECT_EQ(count(c, t), 0);
    try {
        pg::Transaction tx(c);
        (void)tx.exec("INSERT INTO " + t + " VALUES ($1)", {{"2"}});
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(count(c, t), 0);
    EXPECT_FALSE(c.broken());
    pg::Transaction outer(c);
    EXPECT_THROW(pg::Transaction inner(c), pg::SqlError);
}

TEST_F(PgTest, CommitAfterAFailedStatementRollsBackAndThrows) {
    const auto t = tables_.create("sf_tx", "k int PRIMARY KEY");
    auto c = pg::Connection::open(pg_options());
    pg::Transaction tx(c);
    (void)tx.exec("INSERT INTO " + t + " VALUES ($1)", {{"1"}});
    try {
        (void)tx.exec("INSERT INTO " + t + " VALUES ($1)", {{"1"}});
        ADD_FAILURE() << "duplicate key accepted";
    } catch (const pg::SqlError& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
    }
    try {
        tx.commit();
        ADD_FAILURE() << "commit of an aborted transaction reported success";
    } catch (const pg::SqlError& e) {
        EXPECT_EQ(e.sqlstate(), "25P02");
    }
    EXPECT_FALSE(c.in_transaction());
    EXPECT_EQ(count(c, t), 0);
}

std::vector<sql::Params> key_rows(int n, int duplicate_at = -1) {
    std::vector<sql::Params> rows;
    for (int i = 0; i < n; ++i) {
        const int k = i == duplicate_at ? 10 : i;
        rows.push_back({std::to_string(k), "value-" + std::to_string(i)});
    }
    return rows;
}

TEST_F(PgTest, PipelinedBatchOf1000RowsIsOneTransaction) {
    const auto t = tables_.create("sf_batch", "k int PRIMARY KEY, v text NOT NULL");
    auto c = pg::Connection::open(pg_options());
    const auto rows = key_rows(1000);
    EXPECT_EQ(c.execute_batch("INSERT INTO " + t + " (k, v) VALUES ($1, $2)", rows), 1000);
    pg::Result r = c.exec("SELECT count(*), count(DISTINCT xmin::text) FROM " + t, {});
    EXPECT_EQ(r.value(0, 0), "1000");
    EXPECT_EQ(r.value(0, 1), "1");  // one transaction wrote them all
    EXPECT_FALSE(c.in_transaction());
    EXPECT_FALSE(c.broken());
}

TEST_F(PgTest, PipelinedBatchIsAllOrNothing) {
    const auto t = tables_.create("sf_batch", "k int PRIMARY KEY, v text NOT NULL");
    auto c = pg::Connection::open(pg_options());
    const std::string insert = "INSERT INTO " + t + " (k, v) VALUES ($1, $2)";
    try {
        (void)c.execute_batch(insert, key_rows(1000, 500));
        ADD_FAILURE() << "a batch with a duplicate key succeeded";
    } catch (const pg::SqlError& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
        EXPECT_NE(e.statement().find("INSERT INTO"), std::string::npos);
    }
    EXPECT_EQ(count(c, t), 0);
    EXPECT_FALSE(c.broken());
    EXPECT_FALSE(c.in_transaction());
    EXPECT_EQ(c.execute_batch(insert, key_rows(100)), 100);  // the connection is still good
    // Inside an explicit transaction the batch belongs to it.
    {
        pg::Transaction tx(c);
        const std::vector<sql::Params> keys = {{"1"}, {"2"}, {"3"}};
        EXPECT_EQ(tx.execute_batch("DELETE FROM " + t + " WHERE k = $1", keys), 3);
        EXPECT_TRUE(c.in_transaction());
    }
    EXPECT_EQ(count(c, t), 100);
}

TEST_F(PgTest, PipelineReturnsOneResultPerRow) {
    auto c = pg::Connection::open(pg_options());
    std::vector<sql::Params> rows;
    for (int i = 0; i < 200; ++i) {
        rows.push_back({std::to_string(i)});
    }
    const auto results = c.pipeline("SELECT $1::int * 10", rows);
    ASSERT_EQ(results.size(), 200U);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(results[static_cast<std::size_t>(i)].value(0, 0), std::to_string(i * 10));
    }
    EXPECT_EQ(c.exec("SELECT 7", {}).value(0, 0), "7");  // back in normal mode
}

TEST_F(PgTest, StatementTimeoutIsTransientAndKeepsTheConnection) {
    auto options = pg_options();
    options.statement_timeout = 100ms;
    auto c = pg::Connection::open(options);
    try {
        (void)c.exec("SELECT pg_sleep(5)", {});
        ADD_FAILURE() << "statement_timeout did not fire";
    } catch (const TransientError& e) {
        EXPECT_NE(dynamic_cast<const pg::QueryTimeout*>(&e), nullptr) << e.what();
    }
    EXPECT_FALSE(c.broken());
    EXPECT_EQ(c.exec("SELECT 1", {}).value(0, 0), "1");
}

TEST_F(PgTest, SqlErrorsAreNotTransientAndHideParameters) {
    auto c = pg::Connection::open(pg_options());
    try {
        (void)c.exec("SELECT * FROM sf_no_such_table WHERE a = $1", {{"param-value-9431"}});
        ADD_FAILURE() << "a missing table was accepted";
    } catch (const pg::SqlError& e) {
        EXPECT_EQ(e.sqlstate(), "42P01");
        EXPECT_NE(std::string(e.what()).find("sf_no_such_table"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find("param-value-9431"), std::string::npos);
        EXPECT_EQ(dynamic_cast<const TransientError*>(&e), nullptr);
    }
    EXPECT_THROW((void)c.exec("SELECT $1::int", {}), pg::SqlError);  // arity, checked locally
    EXPECT_FALSE(c.broken());
}

TEST_F(PgTest, TerminatedBackendCostsOneTransientErrorAndIsReplaced) {
    // No validation on borrow: the broken connection must be found by the call itself.
    auto db = pg::make_postgres_database(
        {.name = "orders-db", .max_size = 1, .validate_if_idle_for = 1h}, pg_options());
    const auto pid_of = [&] {
        return *db->query(root_, "SELECT pg_backend_pid()", {}).rows.at(0).at(0);
    };
    const std::string victim = pid_of();
    auto admin = pg::Connection::open(pg_options());
    EXPECT_EQ(admin.exec("SELECT pg_terminate_backend($1::int, 5000)", {{victim}}).value(0, 0),
              "t");
    int transient = 0;
    std::string replacement;
    for (int attempt = 0; attempt < 5 && replacement.empty(); ++attempt) {
        try {
            replacement = pid_of();
        } catch (const TransientError& e) {
            ++transient;
            EXPECT_NE(std::string(e.what()).find("orders-db"), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find(pg_options().password.reveal()),
                      std::string::npos);
        }
    }
    EXPECT_EQ(transient, 1);
    EXPECT_NE(replacement, victim);
    EXPECT_FALSE(replacement.empty());
    const PoolStats s = db->pool_stats();
    EXPECT_EQ(s.broken, 1U);
    EXPECT_EQ(s.created, 2U);
    EXPECT_TRUE(db->ping(root_));
}

TEST_F(PgTest, WithConnectionDiscardsABrokenConnection) {
    auto pool =
        pg::make_pool({.name = "raw", .max_size = 1, .validate_if_idle_for = 1h}, pg_options());
    const int pid = pool->with(root_, [](pg::Connection& c) { return c.backend_pid(); });
    auto admin = pg::Connection::open(pg_options());
    (void)admin.exec("SELECT pg_terminate_backend($1::int, 5000)", {{std::to_string(pid)}});
    EXPECT_THROW(pool->with(root_, [](pg::Connection& c) { return c.exec("SELECT 1", {}); }),
                 pg::ConnectionLost);
    EXPECT_EQ(pool->stats().broken, 1U);
    EXPECT_NE(pool->with(root_, [](pg::Connection& c) { return c.backend_pid(); }), pid);
}

TEST_F(PgTest, ALeaseReturningABrokenConnectionDiscardsItWithoutMarkBroken) {
    auto pool = pg::make_pool({.name = "raw-lease", .max_size = 1, .validate_if_idle_for = 1h},
                              pg_options());
    int pid = 0;
    {
        auto lease = pool->acquire(root_);
        pid = lease->backend_pid();
        auto admin = pg::Connection::open(pg_options());
        (void)admin.exec("SELECT pg_terminate_backend($1::int, 5000)", {{std::to_string(pid)}});
        EXPECT_THROW((void)lease->exec("SELECT 1", {}), pg::ConnectionLost);
    }  // returned unmarked: the pool's broken hook sees it
    EXPECT_EQ(pool->stats().broken, 1U);
    EXPECT_EQ(pool->stats().idle, 0U);
    EXPECT_NE(pool->with(root_, [](pg::Connection& c) { return c.backend_pid(); }), pid);
}

TEST_F(PgTest, ALeaseReturnedInsideATransactionIsDiscarded) {
    auto pool = pg::make_pool({.name = "open-tx", .max_size = 1}, pg_options());
    {
        auto lease = pool->acquire(root_);
        (void)lease->exec("BEGIN", {});
        EXPECT_TRUE(lease->in_transaction());
    }  // its next borrower would run inside this transaction
    EXPECT_EQ(pool->stats().broken, 1U);
    EXPECT_EQ(pool->stats().idle, 0U);
    EXPECT_FALSE(pool->with(root_, [](pg::Connection& c) { return c.in_transaction(); }));
}

TEST_F(PgTest, ExhaustedPoolTimesOutNamingThePool) {
    auto pool = pg::make_pool({.name = "exhausted-db", .max_size = 2, .acquire_timeout = 100ms},
                              pg_options());
    // acquire_timeout bounds connecting too: the two connects (SCRAM auth) get their own time.
    auto a = pool->acquire(root_, 10s);
    auto b = pool->acquire(root_, 10s);
    const auto start = Clock::now();
    try {
        auto c = pool->acquire(root_);
        ADD_FAILURE() << "a third lease from a pool of two";
    } catch (const TransientError& e) {
        EXPECT_NE(std::string(e.what()).find("exhausted-db"), std::string::npos) << e.what();
    }
    EXPECT_GE(Clock::now() - start, 90ms);
    EXPECT_EQ(pool->stats().timeouts, 1U);
    EXPECT_EQ(pool->stats().created, 2U);
}

TEST_F(PgTest, LeakThresholdReportNamesTheOwnerScope) {
    auto pool =
        pg::make_pool({.name = "leaky-db", .max_size = 2, .leak_threshold = 50ms}, pg_options());
    Scope owner = root_.child("slow-worker");
    auto lease = pool->acquire(owner);
    const auto deadline = Clock::now() + 5s;
    while (iso_.monitor.count(ReportKind::leak) == 0 && Clock::now() < deadline) {
        pool->maintain();
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1U);
    const auto reports = iso_.monitor.recent();
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().scope_path, "svc/slow-worker");
    EXPECT_NE(reports.back().message.find("leaky-db"), std::string::npos);
    EXPECT_EQ(pool->stats().leaks, 1U);
    lease.release();
}

TEST_F(PgTest, MaxLifetimeRotatesConnections) {
    auto pool = pg::make_pool(
        {.name = "rotating-db", .max_size = 1, .max_lifetime = 500ms, .lifetime_jitter = 0.0},
        pg_options());
    const auto pid = [&] {
        return pool->with(root_, [](pg::Connection& c) { return c.backend_pid(); });
    };
    const int first = pid();
    EXPECT_EQ(pid(), first);  // reused while young
    int later = first;
    const auto deadline = Clock::now() + 5s;
    while (later == first && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        later = pid();
    }
    EXPECT_NE(later, first);
    EXPECT_GE(pool->stats().destroyed, 1U);
    EXPECT_EQ(pool->stats().broken, 0U);
}

TEST_F(PgTest, DatabaseRunsQueriesAndBatches) {
    const auto t = tables_.create("sf_db", "k int PRIMARY KEY, v text");
    auto db = pg::make_postgres_database({.name = "main-db", .max_size = 2}, pg_options());
    EXPECT_EQ(db->engine(), "postgres");
    EXPECT_EQ(db->name(), "main-db");
    const std::vector<sql::Params> rows = {{"1", "a"}, {"2", std::nullopt}, {"3", "c"}};
    EXPECT_EQ(db->execute_batch(root_,
                                "INSERT INTO " + t +
                                    " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
                                    "excluded.v",
                                rows),
              3);
    const sql::Params key = {"2"};
    sql::Result r = db->query(root_, "SELECT k, v FROM " + t + " WHERE k = $1", key);
    ASSERT_EQ(r.rows.size(), 1U);
    EXPECT_EQ(r.columns, (std::vector<std::string>{"k", "v"}));
    EXPECT_EQ(r.rows[0][0], "2");
    EXPECT_FALSE(r.rows[0][1].has_value());
    try {
        (void)db->query(root_, "SELECT nope FROM " + t, {});
        ADD_FAILURE();
    } catch (const pg::SqlError& e) {
        EXPECT_NE(std::string(e.what()).find("main-db"), std::string::npos);
        EXPECT_EQ(e.sqlstate(), "42703");
    }
    EXPECT_TRUE(db->ping(root_));
    EXPECT_TRUE(db->close(1s).clean());
}

}  // namespace
}  // namespace scopeflow
