#include <algorithm>
#include <cctype>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/sqlite/connection.h>

namespace scopeflow::sqlite {
namespace {

constexpr std::size_t kSqlInMessages = 120;  // characters of a statement quoted in errors

bool is_memory_path(const std::string& path) {
    return path.empty() || path == ":memory:" || path.find("mode=memory") != std::string::npos ||
           path.find("vfs=memdb") != std::string::npos;
}

std::string_view journal_name(JournalMode m) {
    switch (m) {
        case JournalMode::wal:
            return "WAL";
        case JournalMode::delete_file:
            return "DELETE";
        case JournalMode::truncate:
            return "TRUNCATE";
        case JournalMode::persist:
            return "PERSIST";
        case JournalMode::memory:
            return "MEMORY";
        case JournalMode::off:
            return "OFF";
    }
    return "DELETE";
}

std::string_view synchronous_name(Synchronous s) {
    switch (s) {
        case Synchronous::off:
            return "OFF";
        case Synchronous::normal:
            return "NORMAL";
        case Synchronous::full:
            return "FULL";
        case Synchronous::extra:
            return "EXTRA";
    }
    return "FULL";
}

// The statement as quoted in an error: whitespace runs collapsed, cut at kSqlInMessages.
std::string quote_sql(std::string_view sql) {
    std::string out;
    bool space = false;
    for (const char ch : sql) {
        if (std::isspace(static_cast<unsigned char>(ch)) != 0) {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        if (out.size() >= kSqlInMessages) {
            out += "...";
            break;
        }
        out += ch;
    }
    return out;
}

// Codes after which the connection itself is suspect: discard it rather than reuse it.
bool connection_level(int primary) {
    return primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
           primary == SQLITE_CANTOPEN || primary == SQLITE_NOMEM;
}

bool only_blanks(const char* p, const char* end) {
    // What may follow the one statement: whitespace, semicolons and comments.
    while (p < end) {
        if (std::isspace(static_cast<unsigned char>(*p)) != 0 || *p == ';') {
            ++p;
        } else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n') {
                ++p;
            }
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const std::string_view rest(p + 2, static_cast<std::size_t>(end - p - 2));
            const auto close = rest.find("*/");
            if (close == std::string_view::npos) {
                return true;
            }
            p += close + 4;
        } else {
            return false;
        }
    }
    return true;
}

// Resets a statement (and clears its bindings) when a run ends, on every path.
[[nodiscard]] auto reset_on_exit(sqlite3_stmt* stmt) {
    return ScopeGuard([stmt] {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    });
}

}  // namespace

void Statement::Finalize::operator()(sqlite3_stmt* stmt) const noexcept {
    sqlite3_finalize(stmt);
}

void Connection::CloseDb::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

Connection Connection::open(const ConnectionOptions& options) {
    Connection c;
    c.path_ = options.path.empty() ? std::string(":memory:") : options.path;
    c.name_ = options.name.empty() ? c.path_ : options.name;
    c.cache_capacity_ = std::max<std::size_t>(options.statement_cache_size, 1);
    int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (options.read_only) {
        flags |= SQLITE_OPEN_READONLY;
    } else {
        flags |= SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0);
    }
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(c.path_.c_str(), &raw, flags, nullptr);
    c.db_.reset(raw);  // SQLite returns a handle to close even when the open fails
    if (rc != SQLITE_OK) {
        c.fail_with(rc,
                    "cannot open: " +
                        std::string(raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
                    {});
    }
    const auto busy = std::clamp<std::chrono::milliseconds::rep>(options.busy_timeout.count(), 0,
                                                                 std::numeric_limits<int>::max());
    sqlite3_busy_timeout(raw, static_cast<int>(busy));
    std::optional<JournalMode> journal = options.journal_mode;
    if (!journal && !options.read_only && !is_memory_path(c.path_)) {
        journal = JournalMode::wal;
    }
    if (journal) {
        const std::string want(journal_name(*journal));
        const sql::Result r = c.query("PRAGMA journal_mode=" + want);
        std::string got = r.rows.empty() || !r.rows[0][0] ? std::string() : *r.rows[0][0];
        std::transform(got.begin(), got.end(), got.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        if (got != want && options.journal_mode) {  // asked for explicitly: say it did not work
            throw Error(c.describe() + ": journal_mode " + want + " refused (it is '" + got + "')");
        }
    }
    c.exec("PRAGMA synchronous=" + std::string(synchronous_name(options.synchronous)));
    c.exec(options.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
    return c;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::move(other.db_)),
      name_(std::move(other.name_)),
      path_(std::move(other.path_)),
      cache_capacity_(other.cache_capacity_),
      lru_(std::move(other.lru_)),  // list nodes stay put: the cache's keys stay valid
      cache_(std::move(other.cache_)),
      prepared_(other.prepared_),
      cache_hits_(other.cache_hits_),
      broken_(other.broken_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close_quietly();
        db_ = std::move(other.db_);
        name_ = std::move(other.name_);
        path_ = std::move(other.path_);
        cache_capacity_ = other.cache_capacity_;
        lru_ = std::move(other.lru_);
        cache_ = std::move(other.cache_);
        prepared_ = other.prepared_;
        cache_hits_ = other.cache_hits_;
        broken_ = other.broken_;
    }
    return *this;
}

Connection::~Connection() {
    close_quietly();
}

void Connection::close_quietly() noexcept {
    try {
        close();
    } catch (...) {
        ResourceMonitor::global().report({.kind = ReportKind::close_error,
                                          .scope_path = {},
                                          .resource = name_,
                                          .resource_kind = ResourceKind::connection,
                                          .site = {},
                                          .message = message_of(std::current_exception())});
    }
}

void Connection::close() {
    cache_.clear();
    lru_.clear();  // finalizes the cached statements first
    sqlite3* db = db_.release();
    if (db == nullptr) {
        return;
    }
    const int rc = sqlite3_close_v2(db);
    if (rc != SQLITE_OK) {
        throw Error(describe() + ": close failed: " + sqlite3_errstr(rc));
    }
}

bool Connection::autocommit() const noexcept {
    return db_ == nullptr || sqlite3_get_autocommit(db_.get()) != 0;
}

std::string Connection::describe() const {
    if (name_ == path_) {
        return "sqlite '" + name_ + "'";
    }
    return "sqlite '" + name_ + "' (" + path_ + ")";
}

void Connection::require_open() const {
    if (db_ == nullptr) {
        throw Error(describe() + ": connection is closed");
    }
}

void Connection::fail(int rc, std::string_view sql, std::string_view context) {
    std::string msg(db_ != nullptr ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc));
    if (!context.empty()) {
        msg = std::string(context) + ": " + msg;
    }
    fail_with(rc, std::move(msg), sql);
}

void Connection::fail_with(int rc, std::string message, std::string_view sql) {
    const int primary = rc & 0xff;
    std::string text = describe() + ": " + message;
    if (!sql.empty()) {
        text += " [in: " + quote_sql(sql) + "]";
    }
    if (connection_level(primary)) {
        broken_ = true;
    }
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        throw TransientError(text);
    }
    throw Error(text);
}

Statement Connection::prepare(std::string_view sql) {
    return compile(sql, false);
}

Statement Connection::compile(std::string_view sql, bool persistent) {
    require_open();
    if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw Error(describe() + ": statement too long");
    }
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
    if (rc != SQLITE_OK) {
        fail(rc, sql, "prepare");
    }
    std::unique_ptr<sqlite3_stmt, Statement::Finalize> owned(raw);
    if (raw == nullptr) {
        throw Error(describe() + ": empty statement [in: " + quote_sql(sql) + "]");
    }
    if (!only_blanks(tail, sql.data() + sql.size())) {
        throw Error(describe() + ": more than one statement (use exec() for scripts) [in: " +
                    quote_sql(sql) + "]");
    }
    // $1..$n only, each used at least once.
    const int n = sqlite3_bind_parameter_count(raw);
    std::vector<int> index;
    for (int i = 1; i <= n; ++i) {
        const char* p = sqlite3_bind_parameter_name(raw, i);
        const std::string_view pname = p != nullptr ? p : "?";
        std::size_t k = 0;
        bool ok = pname.size() >= 2 && pname[0] == '$' && pname[1] != '0' && pname.size() <= 7;
        for (std::size_t j = 1; ok && j < pname.size(); ++j) {
            ok = pname[j] >= '0' && pname[j] <= '9';
            k = k * 10 + static_cast<std::size_t>(pname[j] - '0');
        }
        if (!ok) {
            throw Error(describe() + ": parameter '" + std::string(pname) +
                        "' not supported: use $1, $2, ... [in: " + quote_sql(sql) + "]");
        }
        if (index.size() < k) {
            index.resize(k, 0);
        }
        index[k - 1] = i;
    }
    for (std::size_t k = 0; k < index.size(); ++k) {
        if (index[k] == 0) {
            throw Error(describe() + ": parameter $" + std::to_string(k + 1) +
                        " is never used (parameters must be $1..$n) [in: " + quote_sql(sql) + "]");
        }
    }
    return Statement(owned.release(), std::string(sql), std::move(index));
}

Statement& Connection::prepared(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
        ++cache_hits_;
        lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first
        return *it->second;
    }
    Statement st = compile(sql, true);
    ++prepared_;
    while (lru_.size() >= cache_capacity_) {
        cache_.erase(std::string_view(lru_.back().sql()));
        lru_.pop_back();
    }
    lru_.push_front(std::move(st));
    cache_.emplace(std::string_view(lru_.front().sql()), lru_.begin());
    return lru_.front();
}

void Connection::bind(Statement& statement, std::span<const sql::Value> params) {
    if (params.size() != statement.parameter_count()) {
        throw Error(describe() + ": " + std::to_string(params.size()) + " value(s) for " +
                    std::to_string(statement.parameter_count()) +
                    " parameter(s) [in: " + quote_sql(statement.sql()) + "]");
    }
    sqlite3_stmt* st = statement.native_handle();
    for (std::size_t k = 1; k <= params.size(); ++k) {
        const sql::Value& v = params[k - 1];
        const int idx = statement.bind_index(k);
        // A null destructor is SQLITE_STATIC: the values outlive the run, which resets them.
        const int rc = v ? sqlite3_bind_text64(st, idx, v->data(), v->size(), nullptr, SQLITE_UTF8)
                         : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK) {
            fail(rc, statement.sql(), "bind $" + std::to_string(k));
        }
    }
}

sql::Result Connection::query(std::string_view sql, std::span<const sql::Value> params) {
    return run(prepared(sql), params);
}

sql::Result Connection::run(Statement& statement, std::span<const sql::Value> params) {
    require_open();
    sqlite3_stmt* st = statement.native_handle();
    const auto reset = reset_on_exit(st);
    bind(statement, params);
    const sqlite3_int64 before = sqlite3_total_changes64(db_.get());
    sql::Result result;
    const int columns = sqlite3_column_count(st);
    result.columns.reserve(static_cast<std::size_t>(columns));
    for (int i = 0; i < columns; ++i) {
        const char* name = sqlite3_column_name(st, i);
        result.columns.emplace_back(name != nullptr ? name : "");
    }
    for (;;) {
        const int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            fail(rc, statement.sql());
        }
        std::vector<sql::Value>& row = result.rows.emplace_back();
        row.reserve(static_cast<std::size_t>(columns));
        for (int i = 0; i < columns; ++i) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                row.emplace_back(std::nullopt);
                continue;
            }
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
            const int bytes = sqlite3_column_bytes(st, i);
            row.emplace_back(std::in_place, text != nullptr ? text : "",
                             static_cast<std::size_t>(bytes));
        }
    }
    // changes() keeps the last INSERT/UPDATE/DELETE's count: only trust it if this one changed
    // rows.
    result.affected =
        sqlite3_total_changes64(db_.get()) != before ? sqlite3_changes64(db_.get()) : 0;
    return result;
}

std::int64_t Connection::execute(Statement& statement, std::span<const sql::Value> params) {
    require_open();
    sqlite3_stmt* st = statement.native_handle();
    const auto reset = reset_on_exit(st);
    bind(statement, params);
    const sqlite3_int64 before = sqlite3_total_changes64(db_.get());
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE) {
        fail(rc, statement.sql());
    }
    return sqlite3_total_changes64(db_.get()) != before ? sqlite3_changes64(db_.get()) : 0;
}

void Connection::exec(std::string_view script) {
    require_open();
    const std::string text(script);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errmsg(db_.get());
        sqlite3_free(err);
        fail_with(rc, std::move(msg), script);
    }
}

bool Connection::ping() noexcept {
    try {
        const sql::Result r = query("SELECT 1");
        return r.rows.size() == 1;
    } catch (...) {
        return false;
    }
}

}  // namespace scopeflow::sqlite
