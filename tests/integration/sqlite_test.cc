// SQLite connector: $n parameters, the prepared-statement cache, transactions, all-or-nothing
// batches, busy -> TransientError, file creation (WAL), read-only connections, in-memory pools,
// errors naming the database, and leases returned (the test ledger is empty at the end).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/sqlite/connection.h>
#include <scopeflow/sqlite/database.h>
#include <scopeflow/sqlite/transaction.h>

#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow::sqlite {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// Every lease returned (the leak check), and no leak reported unless the test expects one.
class SqliteTest : public testing::LeakCheckedTest {
protected:
    SqliteTest()
        : LeakCheckedTest("svc") {}
    void TearDown() override {
        LeakCheckedTest::TearDown();
        if (!leak_expected_) {
            EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0u);
        }
    }

    [[nodiscard]] std::string db_path(const std::string& name = "test.db") const {
        return (dir_ / name).string();
    }

    std::int64_t count(Connection& c, const std::string& table) {
        return std::stoll(*c.query("SELECT count(*) FROM " + table).rows.at(0).at(0));
    }

    testing::TempDir dir_;
    bool leak_expected_ = false;
};

TEST_F(SqliteTest, BindsDollarParametersAsTextAndNull) {
    Connection c = Connection::open({.path = db_path()});
    c.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT, n REAL)");
    sql::Result ins =
        c.query("INSERT INTO t(k, v, n) VALUES ($1, $2, $3)", {{"1"}, {"one"}, {"1.5"}});
    EXPECT_EQ(ins.affected, 1);
    EXPECT_TRUE(ins.rows.empty());
    (void)c.query("INSERT INTO t(k, v, n) VALUES ($1, $2, $3)", {{"2"}, std::nullopt, {"2"}});
    (void)c.query("INSERT INTO t(k, v, n) VALUES ($1, $2, $3)", {{"3"}, {""}, {"3"}});

    sql::Result r = c.query("SELECT k, v, n FROM t WHERE k >= $1 ORDER BY k", {{"1"}});
    EXPECT_EQ(r.columns, (std::vector<std::string>{"k", "v", "n"}));
    ASSERT_EQ(r.rows.size(), 3u);
    EXPECT_EQ(r.rows[0][0], "1");  // an INTEGER column compared with a text parameter: affinity
    EXPECT_EQ(r.rows[0][1], "one");
    EXPECT_EQ(r.rows[0][2], "1.5");
    EXPECT_EQ(r.rows[1][1], std::nullopt) << "NULL in, NULL out";
    EXPECT_EQ(r.rows[2][1], "") << "an empty string is not NULL";
    EXPECT_EQ(r.affected, 0) << "a SELECT changes nothing";

    // A parameter used twice is bound once; $2 before $1 is fine.
    sql::Result twice = c.query("SELECT $2 || '-' || $1 || '-' || $2", {{"a"}, {"b"}});
    EXPECT_EQ(twice.rows.at(0).at(0), "b-a-b");
    // Text that looks like SQL stays data.
    (void)c.query("INSERT INTO t(k, v) VALUES ($1, $2)", {{"4"}, {"x'); DROP TABLE t; --"}});
    EXPECT_EQ(count(c, "t"), 4);

    sql::Result upd = c.query("UPDATE t SET n = n + 1 WHERE k <= $1", {{"2"}});
    EXPECT_EQ(upd.affected, 2);
    sql::Result ddl = c.query("CREATE INDEX t_v ON t(v)");
    EXPECT_EQ(ddl.affected, 0) << "DDL after an UPDATE does not repeat its count";
}

TEST_F(SqliteTest, RejectsOtherParameterStylesAndCountMismatches) {
    Connection c = Connection::open({.path = db_path(), .name = "orders"});
    auto expect_error = [&](const std::string& sql, const sql::Params& params,
                            const std::string& fragment) {
        try {
            (void)c.query(sql, params);
            ADD_FAILURE() << "expected Error for " << sql;
        } catch (const TransientError& e) {
            ADD_FAILURE() << "not transient: " << e.what();
        } catch (const Error& e) {
            EXPECT_TRUE(contains(e.what(), fragment)) << e.what();
            EXPECT_TRUE(contains(e.what(), "sqlite 'orders'")) << e.what();
        }
    };
    expect_error("SELECT ?", {{"1"}}, "parameter '?' not supported");
    expect_error("SELECT :name", {{"1"}}, "parameter ':name' not supported");
    expect_error("SELECT $2", {{"1"}, {"2"}}, "parameter $1 is never used");
    expect_error("SELECT $1", {}, "0 value(s) for 1 parameter(s)");
    expect_error("SELECT $1", {{"1"}, {"2"}}, "2 value(s) for 1 parameter(s)");
    expect_error("SELECT 1; SELECT 2", {}, "more than one statement");
    // Trailing semicolons and comments are not a second statement.
    EXPECT_EQ(c.query("SELECT 1; -- done\n").rows.size(), 1u);
}

TEST_F(SqliteTest, PreparedStatementsAreCachedPerConnection) {
    Connection c = Connection::open({.path = db_path(), .statement_cache_size = 3});
    c.exec("CREATE TABLE t(k INTEGER PRIMARY KEY)");
    const std::uint64_t prepared0 = c.statements_prepared();
    const std::uint64_t hits0 = c.cache_hits();
    for (int i = 0; i < 10; ++i) {
        (void)c.query("INSERT INTO t(k) VALUES ($1)", {{std::to_string(i)}});
    }
    EXPECT_EQ(c.statements_prepared() - prepared0, 1u) << "prepared once, run ten times";
    EXPECT_EQ(c.cache_hits() - hits0, 9u);
    Statement& a = c.prepared("INSERT INTO t(k) VALUES ($1)");
    EXPECT_EQ(&a, &c.prepared("INSERT INTO t(k) VALUES ($1)")) << "the same statement object";

    // Least recently used out once the cache is full.
    (void)c.query("SELECT 1");
    (void)c.query("SELECT 2");
    (void)c.query("SELECT 3");
    EXPECT_EQ(c.cached_statements(), 3u);
    const std::uint64_t before = c.statements_prepared();
    (void)c.query("SELECT 3");  // still cached
    EXPECT_EQ(c.statements_prepared(), before);
    (void)c.query("INSERT INTO t(k) VALUES ($1)", {{"100"}});  // evicted: prepared again
    EXPECT_EQ(c.statements_prepared(), before + 1);
    EXPECT_EQ(count(c, "t"), 11);
}

TEST_F(SqliteTest, TransactionCommitsExplicitlyAndRollsBackWhenDestroyed) {
    Connection writer = Connection::open({.path = db_path()});
    Connection reader = Connection::open({.path = db_path()});
    writer.exec("CREATE TABLE t(k INTEGER PRIMARY KEY)");
    {
        Transaction tx(writer);
        EXPECT_FALSE(writer.autocommit());
        (void)writer.query("INSERT INTO t(k) VALUES ($1)", {{"1"}});
        EXPECT_EQ(count(reader, "t"), 0) << "not visible before commit";
        tx.commit();
        EXPECT_FALSE(tx.active());
    }
    EXPECT_EQ(count(reader, "t"), 1);
    {
        Transaction tx(writer);
        (void)writer.query("INSERT INTO t(k) VALUES ($1)", {{"2"}});
        EXPECT_EQ(count(writer, "t"), 2);
    }  // no commit
    EXPECT_TRUE(writer.autocommit());
    EXPECT_EQ(count(writer, "t"), 1);
    EXPECT_EQ(count(reader, "t"), 1);
    {
        Transaction tx(writer);
        (void)writer.query("INSERT INTO t(k) VALUES ($1)", {{"3"}});
        tx.rollback();
        tx.rollback();  // idempotent
        EXPECT_THROW(tx.commit(), Error);
    }
    EXPECT_EQ(count(reader, "t"), 1);
    EXPECT_EQ(iso_.monitor.count(ReportKind::close_error), 0u);
}

TEST_F(SqliteTest, ExecuteBatchIsAllOrNothing) {
    auto db = make_sqlite_database({.name = "orders", .max_size = 2}, {.path = db_path()});
    EXPECT_EQ(db->engine(), "sqlite");
    EXPECT_EQ(db->name(), "orders");
    (void)db->query(root_, "CREATE TABLE t(k TEXT UNIQUE, v TEXT)", {});
    const std::vector<sql::Params> bad{{{"a"}, {"1"}}, {{"b"}, {"2"}}, {{"a"}, {"3"}}};
    try {
        (void)db->execute_batch(root_, "INSERT INTO t(k, v) VALUES ($1, $2)", bad);
        FAIL() << "expected Error";
    } catch (const TransientError& e) {
        FAIL() << "a constraint violation is not transient: " << e.what();
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(contains(what, "UNIQUE constraint failed: t.k")) << what;
        EXPECT_TRUE(contains(what, "batch row 3 of 3")) << what;
        EXPECT_TRUE(contains(what, "sqlite 'orders' (" + db_path() + ")")) << what;
    }
    EXPECT_EQ(db->query(root_, "SELECT count(*) FROM t", {}).rows[0][0], "0")
        << "rows 1 and 2 rolled back with row 3";

    const std::vector<sql::Params> good{{{"a"}, {"1"}}, {{"b"}, {"2"}}, {{"c"}, {"3"}}};
    EXPECT_EQ(db->execute_batch(root_, "INSERT INTO t(k, v) VALUES ($1, $2)", good), 3);
    const std::vector<sql::Params> upsert{{{"a"}, {"10"}}, {{"d"}, {"4"}}};
    EXPECT_EQ(db->execute_batch(root_,
                                "INSERT INTO t(k, v) VALUES ($1, $2) "
                                "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                                upsert),
              2);
    sql::Result r = db->query(root_, "SELECT v FROM t WHERE k = $1", {{{"a"}}});
    EXPECT_EQ(r.rows.at(0).at(0), "10");
    EXPECT_EQ(db->execute_batch(root_, "INSERT INTO t(k) VALUES ($1)", {}), 0);

    EXPECT_TRUE(db->ping(root_));
    const PoolStats s = db->pool_stats();
    EXPECT_GE(s.created, 1u);
    EXPECT_EQ(s.active, 0u);
    EXPECT_TRUE(db->close(1s).clean());
    EXPECT_FALSE(db->ping(root_)) << "a closed database does not answer";
}

TEST_F(SqliteTest, BusyDatabaseIsATransientErrorAfterTheBusyTimeout) {
    Connection a = Connection::open({.path = db_path(), .name = "state"});
    Connection b = Connection::open({.path = db_path(), .name = "state", .busy_timeout = 50ms});
    a.exec("CREATE TABLE t(k INTEGER)");
    Transaction holding(a);  // BEGIN IMMEDIATE: the write lock
    const auto start = Clock::now();
    try {
        Transaction tx(b);
        FAIL() << "expected TransientError";
    } catch (const TransientError& e) {
        EXPECT_GE(Clock::now() - start, 50ms) << "waited for the busy timeout first";
        EXPECT_TRUE(contains(e.what(), "sqlite 'state' (" + db_path() + ")")) << e.what();
        EXPECT_TRUE(contains(e.what(), "database is locked")) << e.what();
        EXPECT_TRUE(contains(e.what(), "BEGIN IMMEDIATE")) << e.what();
    }
    EXPECT_TRUE(b.autocommit());
    EXPECT_FALSE(b.broken()) << "busy is not a broken connection";

    // Through the Database: the batch fails retriably and its lease goes back.
    auto db = make_sqlite_database({.name = "state"}, {.path = db_path(), .busy_timeout = 50ms});
    const std::vector<sql::Params> rows{{{"1"}}};
    EXPECT_THROW((void)db->execute_batch(root_, "INSERT INTO t(k) VALUES ($1)", rows),
                 TransientError);
    holding.commit();
    EXPECT_EQ(db->execute_batch(root_, "INSERT INTO t(k) VALUES ($1)", rows), 1);
    EXPECT_EQ(db->pool_stats().active, 0u);
}

TEST_F(SqliteTest, FileDatabaseIsCreatedInWalMode) {
    const std::string path = db_path("new.db");
    ASSERT_FALSE(fs::exists(path));
    {
        Connection c = Connection::open({.path = path});
        EXPECT_TRUE(fs::exists(path));
        EXPECT_EQ(c.query("PRAGMA journal_mode").rows.at(0).at(0), "wal");
        EXPECT_EQ(c.query("PRAGMA foreign_keys").rows.at(0).at(0), "1");
        EXPECT_EQ(c.query("PRAGMA synchronous").rows.at(0).at(0), "2") << "FULL by default";
        c.close();
        EXPECT_FALSE(c.is_open());
        EXPECT_TRUE(c.broken());
        c.close();  // idempotent
        EXPECT_THROW((void)c.query("SELECT 1"), Error);
    }
    Connection d = Connection::open({.path = path,
                                     .journal_mode = JournalMode::delete_file,
                                     .synchronous = Synchronous::normal,
                                     .foreign_keys = false});
    EXPECT_EQ(d.query("PRAGMA journal_mode").rows.at(0).at(0), "delete");
    EXPECT_EQ(d.query("PRAGMA synchronous").rows.at(0).at(0), "1");
    EXPECT_EQ(d.query("PRAGMA foreign_keys").rows.at(0).at(0), "0");

    try {
        Connection missing = Connection::open({.path = db_path("absent.db"), .create = false});
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), db_path("absent.db"))) << e.what();
        EXPECT_TRUE(contains(e.what(), "cannot open")) << e.what();
    }
    EXPECT_FALSE(fs::exists(db_path("absent.db")));
}

TEST_F(SqliteTest, ForeignKeysAreEnforced) {
    Connection c = Connection::open({.path = db_path()});
    c.exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE child(id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id));");
    EXPECT_THROW((void)c.query("INSERT INTO child(id, p) VALUES ($1, $2)", {{"1"}, {"99"}}), Error);
    EXPECT_EQ(count(c, "child"), 0);
}

TEST_F(SqliteTest, ReadOnlyConnectionRejectsWrites) {
    {
        Connection rw = Connection::open({.path = db_path()});
        rw.exec("CREATE TABLE t(k INTEGER); INSERT INTO t VALUES (1)");
    }
    Connection ro = Connection::open({.path = db_path(), .name = "replica", .read_only = true});
    EXPECT_EQ(count(ro, "t"), 1);
    try {
        (void)ro.query("INSERT INTO t(k) VALUES ($1)", {{"2"}});
        FAIL() << "expected Error";
    } catch (const TransientError& e) {
        FAIL() << "not transient: " << e.what();
    } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), "readonly")) << e.what();
        EXPECT_TRUE(contains(e.what(), "sqlite 'replica'")) << e.what();
    }
    EXPECT_FALSE(ro.broken());
    EXPECT_EQ(count(ro, "t"), 1);

    auto db = make_sqlite_database({.name = "replica"}, {.path = db_path(), .read_only = true});
    EXPECT_THROW((void)db->query(root_, "DELETE FROM t", {}), Error);
    EXPECT_EQ(db->query(root_, "SELECT count(*) FROM t", {}).rows[0][0], "1");
}

TEST_F(SqliteTest, InMemoryPoolSharesOneDatabaseThatOutlivesItsConnections) {
    auto pool = sqlite::make_pool({.name = "scratch", .max_size = 2}, {.path = ":memory:"});
    {
        auto a = pool->acquire(root_);
        auto b = pool->acquire(root_);
        ASSERT_NE(&a.get(), &b.get()) << "two distinct connections";
        a->exec("CREATE TABLE t(k INTEGER); INSERT INTO t VALUES (1), (2)");
        EXPECT_EQ(count(b.get(), "t"), 2) << "the second connection sees the same database";
        a.mark_broken();  // both connections go away...
        b.mark_broken();
    }
    EXPECT_EQ(pool->stats().total, 0u);
    {
        auto c = pool->acquire(root_);  // ...a new one still finds the data
        EXPECT_EQ(count(c.get(), "t"), 2);
    }
    EXPECT_EQ(pool->stats().created, 3u);

    // Another pool: another database.
    auto other = make_sqlite_database({.name = "scratch"}, {.path = ":memory:"});
    EXPECT_THROW((void)other->query(root_, "SELECT count(*) FROM t", {}), Error);

    // A plain connection to ":memory:" is private, as in SQLite.
    Connection x = Connection::open({});
    Connection y = Connection::open({});
    x.exec("CREATE TABLE t(k INTEGER)");
    EXPECT_THROW((void)y.query("SELECT count(*) FROM t"), Error);
    EXPECT_EQ(x.query("PRAGMA journal_mode").rows.at(0).at(0), "memory") << "no WAL in memory";
}

TEST_F(SqliteTest, ErrorsNameTheDatabaseAndATruncatedStatement) {
    Connection c = Connection::open({.path = db_path(), .name = "orders"});
    const std::string long_sql =
        "SELEC k FROM t WHERE " + std::string(200, 'x') + " = $1";  // a syntax error
    try {
        (void)c.query(long_sql, {{"1"}});
        FAIL() << "expected Error";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(contains(what, "sqlite 'orders' (" + db_path() + ")")) << what;
        EXPECT_TRUE(contains(what, "syntax error")) << what;
        EXPECT_TRUE(contains(what, "[in: SELEC k FROM t WHERE xxx")) << what;
        EXPECT_TRUE(contains(what, "...]")) << what;
        EXPECT_LT(what.size(), 400u) << "the statement is truncated";
    }
    try {
        (void)c.query("SELECT * FROM no_such_table");
        FAIL() << "expected Error";
    } catch (const Error& e) {
        EXPECT_TRUE(contains(e.what(), "no such table: no_such_table")) << e.what();
    }
    EXPECT_FALSE(c.broken()) << "SQL errors leave the connection usable";
    EXPECT_TRUE(c.ping());
}

TEST_F(SqliteTest, BrokenConnectionIsDiscardedOnRelease) {
    auto pool = sqlite::make_pool({.name = "state", .max_size = 1}, {.path = db_path()});
    Connection* first = nullptr;
    {
        auto lease = pool->acquire(root_);
        first = &lease.get();
        lease->mark_broken();  // as an I/O error or corruption would
        lease.release();
        EXPECT_FALSE(lease);
    }
    EXPECT_EQ(pool->stats().broken, 1u);
    auto lease = pool->acquire(root_);
    EXPECT_FALSE(lease->broken());
    EXPECT_EQ(pool->stats().created, 2u) << "replaced, not reused";
    (void)first;
    lease.release();
    EXPECT_EQ(pool->stats().idle, 1u) << "a healthy connection goes back to the pool";
}

TEST_F(SqliteTest, LeaseOutlivingItsScopeIsReportedAsLeak) {
    auto pool = sqlite::make_pool({.name = "state"}, {.path = db_path()});
    ConnectionPool::Lease escaped;
    {
        Scope task = root_.child("task");
        escaped = pool->acquire(task);
    }
    ASSERT_EQ(iso_.monitor.count(ReportKind::leak), 1u);
    EXPECT_EQ(iso_.monitor.recent().back().scope_path, "svc/task");
    EXPECT_EQ(iso_.monitor.recent().back().resource, "lease state");
    escaped.release();
    leak_expected_ = true;  // the fixture checks there were none otherwise
}

}  // namespace
}  // namespace scopeflow::sqlite
