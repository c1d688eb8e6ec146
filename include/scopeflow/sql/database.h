// sql::Database: a pooled SQL database as the stages see it, whatever the engine behind it
// (PostgreSQL through libpq, SQLite embedded). One dialect for parameters: $1, $2, ...
//
//   std::shared_ptr<scopeflow::sql::Database> db = ...;   // make_postgres_database /
//   make_sqlite_database sql::Result r = db->query(task_scope, "SELECT name FROM customers WHERE id
//   = $1", {{"42"}}); if (!r.rows.empty() && r.rows[0][0]) use(*r.rows[0][0]);
//   db->execute_batch(task_scope, "INSERT INTO t(k, v) VALUES ($1, $2) "
//                                 "ON CONFLICT (k) DO UPDATE SET v = excluded.v", rows);
//
// Behaviour every implementation keeps:
// - Parameters are always bound, never spliced into the SQL text; values travel as text and NULL
//   is std::nullopt. Statements are prepared once per connection and cached.
// - A connection lost mid-call is discarded from the pool (never reused) and the call throws
//   TransientError naming the database, so a retrying stage sees one retriable error and its
//   retry gets a fresh connection. SQL errors (syntax, constraint) throw a non-transient Error.
// - execute_batch runs every row in one transaction (all or nothing); PostgreSQL sends them in
//   pipeline mode, one round trip for the batch.
// - Messages name the database and never contain a password.
//
// Thread safety: every member may be called concurrently; each call leases its own connection
// from the pool for its duration, owned by (and tracked in) the given scope.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/pool/pool_options.h>

namespace scopeflow {
class Scope;
}

namespace scopeflow::sql {

using Value = std::optional<std::string>;  // text form; nullopt is SQL NULL
using Params = std::vector<Value>;

struct Result {
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows;
    std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

class Database {
public:
    Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    Database(Database&&) = delete;
    Database& operator=(Database&&) = delete;
    virtual ~Database() = default;

    [[nodiscard]] virtual const std::string& name() const noexcept = 0;
    // "postgres" or "sqlite".
    [[nodiscard]] virtual std::string_view engine() const noexcept = 0;

    virtual Result query(Scope& owner, std::string_view sql, std::span<const Value> params) = 0;
    // One statement, many parameter rows, one transaction. Returns the total rows affected.
    virtual std::int64_t execute_batch(Scope& owner,
                                       std::string_view sql,
                                       std::span<const Params> rows) = 0;
    // True when a connection can be leased and answers a trivial query (for /readyz).
    virtual bool ping(Scope& owner) = 0;
    [[nodiscard]] virtual PoolStats pool_stats() const = 0;
    // Closes the pool: waits up to `deadline` for leases, reports those still out.
    virtual PoolCloseReport close(std::chrono::milliseconds deadline) = 0;
};

}  // namespace scopeflow::sql
