// SqlSource's progress over SQLite (embedded, no server): the committed key is the last one of
// the contiguous acked prefix (AckWindow), written atomically; a stop ends the poll wait at once.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/event/event.h>
#include <scopeflow/sources/sql_source.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/sqlite/database.h>

#include "support/leak_check.h"
#include "support/temp_dir.h"

namespace scopeflow {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SqlSourceProgressTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = sqlite::make_sqlite_database({.name = "src"}, {.path = (dir_ / "t.db").string()});
        (void)db_->query(root_, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", {});
    }
    void TearDown() override {
        (void)db_->close(2s);
        root_.close();
        EXPECT_TRUE(testing::nothing_live(iso_.ledger));
    }

    void insert(int from, int to) {
        std::vector<sql::Params> rows;
        for (int i = from; i <= to; ++i) {
            rows.push_back({std::to_string(i), "v" + std::to_string(i)});
        }
        (void)db_->execute_batch(root_, "INSERT INTO t (id, v) VALUES ($1, $2)", rows);
    }
    SqlSourceOptions options() const {
        return {.query = "SELECT id, v FROM t WHERE id > CAST($1 AS INTEGER) ORDER BY id LIMIT $2",
                .key = "id",
                .start_after = "0",
                .page_size = 10,
                .offset_path = (dir_ / "src.offset").string()};
    }
    [[nodiscard]] std::string committed_file() const {
        std::ifstream in(dir_ / "src.offset");
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    testing::Isolated iso_;
    Scope root_{"svc", {.monitor = &iso_.monitor}};
    testing::TempDir dir_;
    std::shared_ptr<sql::Database> db_;
};

TEST_F(SqlSourceProgressTest, ProgressIsTheContiguousAckedPrefixAndStopsAtANack) {
    insert(1, 5);
    SqlSource source(db_, options());
    Scope scope = root_.child("source");
    source.open(scope);
    std::vector<Event> events(5);
    ASSERT_EQ(source.read(events, std::stop_token()), 5U);
    std::vector<std::uint64_t> sequences;
    for (const Event& e : events) {
        sequences.push_back(e.meta().sequence);
    }
    EXPECT_EQ(sequences, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
    source.ack(3);  // out of order: no progress yet
    EXPECT_EQ(source.committed_key(), "0");
    source.ack_many(std::vector<std::uint64_t>{1, 2});
    EXPECT_EQ(source.committed_key(), "3");
    source.nack(4, "failed");
    source.ack(5);
    EXPECT_EQ(source.committed_key(), "3");  // 4 holds progress back
    source.commit();
    EXPECT_EQ(committed_file(), "3\n");
    EXPECT_FALSE(fs::exists(dir_ / "src.offset.tmp"));

    // A new run starts after the committed key: row 4 is read again.
    SqlSource again(db_, options());
    Scope scope2 = root_.child("source-2");
    again.open(scope2);
    std::vector<Event> next(5);
    ASSERT_EQ(again.read(next, std::stop_token()), 2U);
    EXPECT_EQ(next[0].get_int("id").value_or(0), 4);
    scope2.close();
    scope.close();
}

TEST_F(SqlSourceProgressTest, AStopEndsThePollWaitAtOnce) {
    SqlSourceOptions o = options();
    o.poll_interval = std::chrono::milliseconds(60'000);
    SqlSource source(db_, o);
    Scope scope = root_.child("source");
    source.open(scope);
    std::stop_source stop;
    std::thread stopper([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    const auto start = std::chrono::steady_clock::now();
    std::vector<Event> events(4);
    EXPECT_EQ(source.read(events, stop.get_token()), 0U);
    stopper.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // not the 60 s poll interval
    scope.close();
}

}  // namespace
}  // namespace scopeflow
