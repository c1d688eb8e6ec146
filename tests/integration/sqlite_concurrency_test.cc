// SQLite pools under 4 threads (also run under TSan): concurrent batches and reads on a WAL file
// database and on a shared in-memory database lose nothing, never exceed the pool, and return
// every lease.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/sqlite/database.h>

#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow::sqlite {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kThreads = 4;
constexpr int kBatches = 150;
constexpr int kRowsPerBatch = 5;

// Every lease returned (the leak check) and no leak reported.
class SqliteConcurrencyTest : public testing::LeakCheckedTest,
                              public ::testing::WithParamInterface<bool> {
protected:
    SqliteConcurrencyTest()
        : LeakCheckedTest("svc") {}
    void TearDown() override {
        LeakCheckedTest::TearDown();
        EXPECT_EQ(iso_.monitor.count(ReportKind::leak), 0u);
    }

    testing::TempDir dir_{"sqlite"};
};

TEST_P(SqliteConcurrencyTest, FourThreadsWriteAndReadWithoutLoss) {
    const bool in_memory = GetParam();
    auto db = make_sqlite_database(
        {.name = "stress", .max_size = 4, .acquire_timeout = 30s},
        {.path = in_memory ? std::string(":memory:") : (dir_ / "stress.db").string(),
         .busy_timeout = 30s,
         .synchronous = Synchronous::normal});
    (void)db->query(root_, "CREATE TABLE t(k TEXT PRIMARY KEY, worker INTEGER)", {});
    std::vector<Scope> workers;
    for (int t = 0; t < kThreads; ++t) {
        workers.push_back(root_.child("worker-" + std::to_string(t)));
    }
    std::atomic<int> failures{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Scope& self = workers[static_cast<std::size_t>(t)];
            try {
                for (int b = 0; b < kBatches; ++b) {
                    std::vector<sql::Params> rows;
                    for (int i = 0; i < kRowsPerBatch; ++i) {
                        rows.push_back(
                            {std::to_string(t) + "-" + std::to_string(b) + "-" + std::to_string(i),
                             std::to_string(t)});
                    }
                    const auto n =
                        db->execute_batch(self, "INSERT INTO t(k, worker) VALUES ($1, $2)", rows);
                    EXPECT_EQ(n, kRowsPerBatch);
                    const sql::Result mine = db->query(
                        self, "SELECT count(*) FROM t WHERE worker = $1", {{std::to_string(t)}});
                    EXPECT_EQ(mine.rows.at(0).at(0), std::to_string((b + 1) * kRowsPerBatch))
                        << "a worker sees all of its own committed rows";
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << "worker " << t << ": " << e.what();
                failures.fetch_add(1);
            }
        });
    }
    threads.clear();
    EXPECT_EQ(failures.load(), 0);
    const sql::Result total = db->query(root_, "SELECT count(*) FROM t", {});
    EXPECT_EQ(total.rows.at(0).at(0), std::to_string(kThreads * kBatches * kRowsPerBatch));
    const PoolStats s = db->pool_stats();
    EXPECT_LE(s.created, 4u);
    EXPECT_EQ(s.active, 0u);
    EXPECT_EQ(s.acquire_time.count, static_cast<std::uint64_t>(kThreads * kBatches * 2 + 2));
    EXPECT_TRUE(db->close(5s).clean());
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory,
                         SqliteConcurrencyTest,
                         ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                             return p.param ? std::string("InMemory") : std::string("WalFile");
                         });

}  // namespace
}  // namespace scopeflow::sqlite
