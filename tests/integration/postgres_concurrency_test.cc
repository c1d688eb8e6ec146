// 8 threads sharing a pool of 4 PostgreSQL connections: queries and pipelined batches, checked
// results, bounded connections, nothing left in the ledger. Also run under TSan.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/postgres/postgres_pool.h>

#include "integration/postgres_test_support.h"
#include "integration/server_support.h"
#include "support/leak_check.h"

namespace scopeflow {
namespace {

TEST(PgConcurrency, EightThreadsShareAPoolOfFour) {
    SCOPEFLOW_NEED_POSTGRES();
    testing::Isolated iso;
    testing::ScratchTables tables;
    const auto t = tables.create("sf_conc", "k int PRIMARY KEY, v text");
    constexpr int kThreads = 8;
    constexpr int kQueries = 150;
    std::atomic<int> wrong{0};
    std::atomic<int> failures{0};
    {
        Scope root{"svc", {.monitor = &iso.monitor}};
        auto db =
            pg::make_postgres_database({.name = "shared-db", .max_size = 4}, testing::pg_options());
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                Scope worker = root.child("worker-" + std::to_string(i));
                try {
                    for (int q = 0; q < kQueries; ++q) {
                        const sql::Params p = {std::to_string(i * 1000 + q)};
                        const auto r = db->query(worker, "SELECT $1::int + 1", p);
                        if (r.rows.at(0).at(0) != std::to_string(i * 1000 + q + 1)) {
                            wrong.fetch_add(1);
                        }
                        if (q % 50 == 0) {  // a pipelined batch now and then
                            std::vector<sql::Params> rows;
                            for (int k = 0; k < 10; ++k) {
                                rows.push_back({std::to_string(i * 100000 + q * 10 + k), "x"});
                            }
                            (void)db->execute_batch(
                                worker, "INSERT INTO " + t + " (k, v) VALUES ($1, $2)", rows);
                        }
                    }
                } catch (...) {
                    failures.fetch_add(1);
                }
                worker.close();
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        const PoolStats s = db->pool_stats();
        EXPECT_LE(s.created, 4U);
        EXPECT_EQ(s.active, 0U);
        EXPECT_EQ(s.broken, 0U);
        const auto n = db->query(root, "SELECT count(*) FROM " + t, {});
        EXPECT_EQ(n.rows.at(0).at(0), std::to_string(kThreads * 3 * 10));
        EXPECT_TRUE(db->close(std::chrono::seconds(1)).clean());
        root.close();
    }
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_TRUE(testing::nothing_live(iso.ledger));
}

}  // namespace
}  // namespace scopeflow
