// sqlite::Connection: one SQLite database connection (RAII over sqlite3*), with a prepared
// statement cache and the common $1, $2, ... parameter dialect of sql/database.h.
//
//   auto db = scopeflow::sqlite::Connection::open({.path = "state/orders.db"});
//   db.exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT)");
//   scopeflow::sql::Result r = db.query("SELECT v FROM t WHERE k = $1", {{"42"}});
//   {
//       scopeflow::sqlite::Transaction tx(db);   // BEGIN IMMEDIATE
//       db.query("INSERT INTO t(k, v) VALUES ($1, $2)", {{"1"}, {"one"}});
//       tx.commit();                             // rolled back if destroyed uncommitted
//   }
//   db.close();                                  // may throw; the destructor never does
//
// Behaviour:
// - Opened with sqlite3_open_v2 (URI file names allowed, extended result codes), then: busy
//   timeout, journal mode (WAL by default for files, left alone for in-memory databases and
//   read-only connections), synchronous level, foreign keys. Read-only connections refuse writes
//   with a non-transient Error.
// - Parameters are bound, never spliced: `$1`..`$n` are bound by name, so a parameter may appear
//   several times; every value is bound as text (SQLite's affinity converts it for numeric
//   columns) and std::nullopt as NULL. The statement must use exactly $1..$n for n values;
//   `?`, `:name` or a gap is an Error. Results come back as text, NULL as std::nullopt.
// - Statements are prepared once and cached per connection, keyed by their SQL text (least
//   recently used evicted past statement_cache_size).
// - Errors: SQLITE_BUSY / SQLITE_LOCKED (after the busy timeout) throw TransientError; anything
//   else throws a non-transient Error. Messages name the database (name and path), the
//   statement (truncated) and SQLite's own message. An I/O error, corruption or "not a database"
//   also marks the connection broken(): a pool discards it instead of reusing it.
//
// Thread safety: a Connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX); hand
// it between threads through a pool. Move-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <scopeflow/sql/database.h>
#include <scopeflow/sqlite/statement.h>

struct sqlite3;

namespace scopeflow::sqlite {

enum class JournalMode : unsigned char { wal, delete_file, truncate, persist, memory, off };
enum class Synchronous : unsigned char { off, normal, full, extra };

// Used with designated initializers: {.path = "state/orders.db", .busy_timeout = 1s}.
struct ConnectionOptions {
    // A file path, ":memory:" (a private in-memory database per connection; pools share one, see
    // sqlite/database.h) or a "file:" URI.
    std::string path = ":memory:";
    std::string name{};                             // shown in errors; empty: the path
    bool read_only = false;                         // SQLITE_OPEN_READONLY: writes fail
    bool create = true;                             // create the file if missing (not read-only)
    std::chrono::milliseconds busy_timeout{5'000};  // wait this long for a lock, then BUSY
    // Unset: WAL for a file opened read-write (readers never block the writer); unchanged for
    // in-memory databases and read-only connections.
    std::optional<JournalMode> journal_mode{};
    Synchronous synchronous = Synchronous::full;  // FULL: a committed transaction survives power
                                                  // loss; NORMAL is faster (WAL stays consistent)
    bool foreign_keys = true;                     // PRAGMA foreign_keys
    std::size_t statement_cache_size = 64;        // prepared statements kept per connection
};

class Connection {
public:
    // Throws Error naming the database when it cannot be opened or configured.
    static Connection open(const ConnectionOptions& options);

    Connection() noexcept = default;
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;  // closes the one it held first, quietly
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();  // close() without throwing

    // One statement with parameters, through the cache. Returns rows, column names and rows
    // changed (INSERT/UPDATE/DELETE; 0 for anything else).
    sql::Result query(std::string_view sql, std::span<const sql::Value> params = {});
    sql::Result query(std::string_view sql, std::initializer_list<sql::Value> params) {
        return query(sql, std::span<const sql::Value>(params.begin(), params.size()));
    }
    // Runs a prepared statement (from prepare() or the cache) once; resets it after.
    sql::Result run(Statement& statement, std::span<const sql::Value> params);
    // Only the rows changed: for batches, where no result rows are wanted.
    std::int64_t execute(Statement& statement, std::span<const sql::Value> params);

    // Several statements without parameters (schema scripts), via sqlite3_exec.
    void exec(std::string_view script);

    // The cached statement for `sql`, prepared on first use. Valid until the connection closes
    // or the statement is evicted (do not hold it across other calls that prepare).
    Statement& prepared(std::string_view sql);
    // A new statement outside the cache, owned by the caller (must not outlive the connection).
    Statement prepare(std::string_view sql);

    // SELECT 1; false on any error.
    bool ping() noexcept;

    // Closes (sqlite3_close_v2, after finalizing cached statements). Throws Error if SQLite
    // reports a failure; the handle is released either way. Idempotent.
    void close();

    [[nodiscard]] bool is_open() const noexcept { return db_ != nullptr; }
    // An I/O error, corruption or a closed handle: do not reuse (pools discard it).
    [[nodiscard]] bool broken() const noexcept { return broken_ || db_ == nullptr; }
    void mark_broken() noexcept { broken_ = true; }
    // True outside any transaction (sqlite3_get_autocommit).
    [[nodiscard]] bool autocommit() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] sqlite3* native_handle() const noexcept { return db_.get(); }

    // Statement cache counters (for tests and metrics).
    [[nodiscard]] std::size_t cached_statements() const noexcept { return cache_.size(); }
    [[nodiscard]] std::uint64_t statements_prepared() const noexcept { return prepared_; }
    [[nodiscard]] std::uint64_t cache_hits() const noexcept { return cache_hits_; }

    // Throws the error SQLite reports for `rc` (TransientError for BUSY/LOCKED), naming this
    // database and `sql`; marks the connection broken for connection-level codes.
    [[noreturn]] void fail(int rc, std::string_view sql, std::string_view context = {});
    // "sqlite 'orders' (state/orders.db)": how errors name this database.
    [[nodiscard]] std::string describe() const;

private:
    struct CloseDb {
        void operator()(sqlite3* db) const noexcept;
    };

    [[noreturn]] void fail_with(int rc, std::string message, std::string_view sql);
    void require_open() const;
    void close_quietly() noexcept;
    Statement compile(std::string_view sql, bool persistent);
    void bind(Statement& statement, std::span<const sql::Value> params);

    std::unique_ptr<sqlite3, CloseDb> db_;
    std::string name_;
    std::string path_;
    std::size_t cache_capacity_ = 0;
    std::list<Statement> lru_;  // the cache, most recently used first
    std::unordered_map<std::string_view, std::list<Statement>::iterator> cache_;  // keys: lru_
    std::uint64_t prepared_ = 0;
    std::uint64_t cache_hits_ = 0;
    bool broken_ = false;
};

}  // namespace scopeflow::sqlite
