// SqlSource: reads rows from an sql::Database as events, page by page in key order (the seed's
// DatabaseReader).
//
//   SqlSource source(db, {.query = "SELECT id, customer, amount FROM orders WHERE id > $1 "
//                                  "ORDER BY id LIMIT $2",
//                         .key = "id", .page_size = 500});
//
// The query gets two parameters: $1 the last key read ("" before the first page, so write the
// condition to accept it: `WHERE id > CAST($1 AS INTEGER)` with start_after "0", or compare as
// text), and $2 the page size. Each row becomes an event whose fields are the columns: integers
// and decimals become numbers, NULL becomes null, the rest strings.
//
// Progress: the key of the highest row whose event, and every event before it, was acked. With
// `offset_path` it is committed there (temp file, fsync, rename) by commit() and read back at
// open(), so a restart continues after the last committed row (at-least-once, like
// JsonlFileSource). A nacked row holds progress back for the rest of the run.
//
// Finite by default: read() returns 0 once a page comes back empty. With `poll_interval` set it
// keeps polling for new rows until stopped (a table that is appended to).
//
// Errors: a transient database error (lost connection) is retried on the next read() after a
// short backoff, up to `max_read_attempts` times in a row; then, and for any other error, read()
// throws and the pipeline fails with it.
//
// Thread safety: as Source: workers call read/ack concurrently; pages are fetched under a lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <scopeflow/engine/source.h>
#include <scopeflow/event/event.h>
#include <scopeflow/sources/ack_window.h>
#include <scopeflow/sql/database.h>

namespace scopeflow {

struct SqlSourceOptions {
    std::string query;        // with $1 = last key, $2 = page size
    std::string key;          // the key column (in the result)
    std::string start_after;  // $1 for the first page
    std::size_t page_size = 500;
    std::string offset_path;                       // empty: progress not persisted
    std::chrono::milliseconds poll_interval{0};    // 0: finite
    int max_read_attempts = 5;                     // transient failures in a row before failing
    std::chrono::milliseconds retry_backoff{200};  // between those attempts
};

class SqlSource final : public Source {
public:
    SqlSource(std::shared_ptr<sql::Database> db, SqlSourceOptions options);

    void open(Scope& scope) override;
    std::size_t read(std::span<Event> out, const std::stop_token& stop) override;
    void ack(std::uint64_t sequence) override;
    void ack_many(std::span<const std::uint64_t> sequences) override;
    void nack(std::uint64_t sequence, std::string_view reason) override;
    void commit() override;

    [[nodiscard]] std::uint64_t rows_read() const;
    [[nodiscard]] std::uint64_t read_retries() const;
    [[nodiscard]] std::string committed_key() const;

private:
    bool fetch_page_locked(const std::stop_token& stop);
    void ack_locked(std::uint64_t sequence);

    std::shared_ptr<sql::Database> db_;
    const SqlSourceOptions options_;
    Scope* scope_ = nullptr;

    mutable std::mutex mu_;
    // A fetched row not handed out yet, with its key column's text as the database gave it
    // (the event's typed field would turn "007" into 7 and "1.50" into 1.5).
    struct Row {
        Event event;
        std::string key;
    };
    std::deque<Row> buffered_;
    std::string last_key_;  // key of the last row fetched
    // Rows handed out and not yet acked, each with its key; sequences count from 1.
    AckWindow<std::string> pending_{1};
    std::string done_key_;            // progress: every row up to it acked
    bool exhausted_ = false;
    std::uint64_t rows_ = 0;
    std::uint64_t retries_ = 0;
};

}  // namespace scopeflow
