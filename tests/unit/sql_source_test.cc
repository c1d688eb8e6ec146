// SqlSource against a real SQLite file: pages in key order, typed fields, contiguous acks
// (progress waits for every earlier row), commit and resume after the last committed key,
// polling for appended rows, and configuration errors.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
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

// "SELECT ... WHERE id > $1 ... LIMIT $2" over an INTEGER key (parameters arrive as text).
constexpr const char* kByIntegerId =
    "SELECT id, name, amount, note FROM items WHERE id > CAST($1 AS INTEGER) "
    "ORDER BY id LIMIT CAST($2 AS INTEGER)";

class SqlSourceTest : public testing::LeakCheckedTest {
protected:
    SqlSourceTest()
        : LeakCheckedTest("svc") {}

    void SetUp() override {
        db_ = sqlite::make_sqlite_database({.name = "items", .max_size = 2},
                                           {.path = (dir_ / "items.db").string(),
                                            // A scratch file: no fsync per commit keeps it fast.
                                            .synchronous = sqlite::Synchronous::off});
        exec("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, amount REAL, note TEXT)");
    }
    void TearDown() override {
        db_->close(5s);
        db_.reset();
        LeakCheckedTest::TearDown();
    }

    void exec(const std::string& sql, const std::vector<sql::Value>& params = {}) {
        (void)db_->query(root_, sql, params);
    }
    // Rows id = first..last, name "item-<id>", amount id + 0.5, note NULL.
    void insert(int first, int last) {
        std::vector<sql::Params> rows;
        for (int id = first; id <= last; ++id) {
            rows.push_back(
                {std::to_string(id), "item-" + std::to_string(id), std::to_string(id) + ".5"});
        }
        (void)db_->execute_batch(
            root_, "INSERT INTO items(id, name, amount, note) VALUES ($1, $2, $3, NULL)", rows);
    }

    SqlSourceOptions options(std::size_t page_size = 3) {
        return {.query = kByIntegerId, .key = "id", .start_after = "0", .page_size = page_size};
    }

    // Reads until the source returns nothing; the events, in order.
    static std::vector<Event> read_all(SqlSource& s) {
        std::vector<Event> events;
        std::vector<Event> buf(16);
        std::stop_source stop;
        while (const std::size_t n = s.read(buf, stop.get_token())) {
            events.insert(events.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
        return events;
    }
    static std::vector<std::int64_t> ids(const std::vector<Event>& events) {
        std::vector<std::int64_t> out;
        for (const auto& e : events) {
            out.push_back(e.get_int("id").value_or(-1));
        }
        return out;
    }

    testing::TempDir dir_;
    std::shared_ptr<sql::Database> db_;
};

TEST_F(SqlSourceTest, ReadsPageByPageInKeyOrderWithTypedFields) {
    insert(1, 10);
    SqlSource source(db_, options(3));
    source.open(root_);

    std::vector<Event> buf(16);
    std::stop_source stop;
    // One page per read: the buffer is larger than a page, a read never waits for a second one.
    EXPECT_EQ(source.read(buf, stop.get_token()), 3U);
    EXPECT_EQ(buf[0].get_int("id"), 1);
    EXPECT_EQ(buf[0].meta().sequence, 1U);
    EXPECT_EQ(buf[2].meta().sequence, 3U);
    EXPECT_EQ(buf[1].get_string("name"), "item-2");
    EXPECT_DOUBLE_EQ(buf[1].get_double("amount").value_or(0), 2.5);
    const Value* note = buf[1].find("note");
    ASSERT_NE(note, nullptr);
    EXPECT_EQ(note->kind(), ValueKind::null);

    const std::vector<Event> rest = read_all(source);
    EXPECT_EQ(ids(rest), (std::vector<std::int64_t>{4, 5, 6, 7, 8, 9, 10}));
    EXPECT_EQ(rest.back().meta().sequence, 10U);
    EXPECT_EQ(source.rows_read(), 10U);
    // Finite: once a page came back empty, the source stays exhausted.
    insert(11, 11);
    EXPECT_EQ(source.read(buf, stop.get_token()), 0U);
}

TEST_F(SqlSourceTest, StartAfterSkipsTheRowsUpToIt) {
    insert(1, 5);
    SqlSourceOptions o = options();
    o.start_after = "3";
    SqlSource source(db_, o);
    source.open(root_);
    EXPECT_EQ(ids(read_all(source)), (std::vector<std::int64_t>{4, 5}));
    EXPECT_EQ(source.committed_key(), "3");
}

TEST_F(SqlSourceTest, ProgressIsTheLastKeyWhoseRowAndEveryEarlierOneWereAcked) {
    insert(1, 10);
    SqlSource source(db_, options(4));
    source.open(root_);
    ASSERT_EQ(read_all(source).size(), 10U);
    EXPECT_EQ(source.committed_key(), "0");

    source.ack(2);
    source.ack(1);
    EXPECT_EQ(source.committed_key(), "2");
    const std::vector<std::uint64_t> later{4, 5};
    source.ack_many(later);
    EXPECT_EQ(source.committed_key(), "2") << "3 is still in flight";
    source.ack(3);
    EXPECT_EQ(source.committed_key(), "5");
    source.nack(6, "failed downstream");
    for (std::uint64_t s = 7; s <= 10; ++s) {
        source.ack(s);
    }
    EXPECT_EQ(source.committed_key(), "5") << "a nacked row holds progress back for the run";
    // Sequences the source never handed out, or already settled, change nothing.
    source.ack(0);
    source.ack(99);
    source.ack(2);
    EXPECT_EQ(source.committed_key(), "5");
}

TEST_F(SqlSourceTest, CommitWritesProgressAndANewSourceResumesAfterIt) {
    insert(1, 10);
    const std::string offset = (dir_ / "items.offset").string();
    SqlSourceOptions o = options(3);
    o.offset_path = offset;
    {
        SqlSource first(db_, o);
        first.open(root_);
        ASSERT_EQ(read_all(first).size(), 10U);
        for (std::uint64_t s = 1; s <= 4; ++s) {
            first.ack(s);
        }
        first.ack(6);  // not contiguous: not part of the progress
        first.commit();
    }
    EXPECT_EQ(testing::read_file(offset), "4\n");
    EXPECT_FALSE(std::filesystem::exists(offset + ".tmp")) << "written by rename";

    SqlSource second(db_, o);
    second.open(root_);
    EXPECT_EQ(second.committed_key(), "4");
    EXPECT_EQ(ids(read_all(second)), (std::vector<std::int64_t>{5, 6, 7, 8, 9, 10}));
}

TEST_F(SqlSourceTest, WithoutAnOffsetPathCommitWritesNothing) {
    insert(1, 2);
    SqlSource source(db_, options());
    source.open(root_);
    ASSERT_EQ(read_all(source).size(), 2U);
    source.ack(1);
    source.ack(2);
    source.commit();
    EXPECT_EQ(source.committed_key(), "2");
    for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
        EXPECT_EQ(f.path().filename().string().rfind("items.db", 0), 0U)
            << "only the database's files: " << f.path();
    }
}

TEST_F(SqlSourceTest, TextKeysKeepTheirTextInTheProgress) {
    // Keys that look like numbers but are compared as text: "007" must not become 7.
    exec("CREATE TABLE codes(code TEXT PRIMARY KEY, label TEXT)");
    for (const char* code : {"001", "002", "010", "1.50", "2.00"}) {
        exec("INSERT INTO codes(code, label) VALUES ($1, $2)", {code, std::string("c") + code});
    }
    const std::string offset = (dir_ / "codes.offset").string();
    const SqlSourceOptions o{.query =
                                 "SELECT code, label FROM codes WHERE code > $1 "
                                 "ORDER BY code LIMIT CAST($2 AS INTEGER)",
                             .key = "code",
                             .start_after = "",
                             .page_size = 2,
                             .offset_path = offset};
    {
        SqlSource first(db_, o);
        first.open(root_);
        ASSERT_EQ(read_all(first).size(), 5U);
        for (std::uint64_t s = 1; s <= 3; ++s) {
            first.ack(s);
        }
        EXPECT_EQ(first.committed_key(), "010");
        first.ack(4);
        EXPECT_EQ(first.committed_key(), "1.50");
        first.commit();
    }
    SqlSource second(db_, o);
    second.open(root_);
    std::vector<Event> buf(8);
    std::stop_source stop;
    ASSERT_EQ(second.read(buf, stop.get_token()), 1U) << "only the row after '1.50' is left";
    EXPECT_EQ(buf[0].get_string("label"), "c2.00");
}

TEST_F(SqlSourceTest, PollingPicksUpAppendedRowsAndAStopEndsIt) {
    insert(1, 2);
    SqlSourceOptions o = options(10);
    o.poll_interval = 5ms;
    SqlSource source(db_, o);
    source.open(root_);
    std::vector<Event> buf(16);
    std::stop_source stop;
    ASSERT_EQ(source.read(buf, stop.get_token()), 2U);
    insert(3, 4);  // appended after the source reached the end
    ASSERT_EQ(source.read(buf, stop.get_token()), 2U);
    EXPECT_EQ(buf[0].get_int("id"), 3);
    stop.request_stop();
    EXPECT_EQ(source.read(buf, stop.get_token()), 0U);
}

TEST_F(SqlSourceTest, OptionsAreValidatedNamingTheField) {
    const auto where = [&](std::shared_ptr<sql::Database> db, SqlSourceOptions o) {
        try {
            SqlSource s(std::move(db), std::move(o));
        } catch (const ConfigError& e) {
            return e.where();
        }
        return std::string("no error");
    };
    EXPECT_EQ(where(nullptr, options()), "source.resource");
    SqlSourceOptions o = options();
    o.query.clear();
    EXPECT_EQ(where(db_, o), "source.query");
    o = options();
    o.key.clear();
    EXPECT_EQ(where(db_, o), "source.key");
    o = options();
    o.page_size = 0;
    EXPECT_EQ(where(db_, o), "source.page_size");
}

TEST_F(SqlSourceTest, AQueryWithoutTheKeyColumnFailsTheRead) {
    insert(1, 1);
    SqlSourceOptions o = options();
    o.key = "missing";
    SqlSource source(db_, o);
    source.open(root_);
    std::vector<Event> buf(4);
    std::stop_source stop;
    try {
        (void)source.read(buf, stop.get_token());
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.where(), "source.key");
        EXPECT_NE(e.text().find("'missing'"), std::string::npos) << e.text();
    }
}

}  // namespace
}  // namespace scopeflow
