// SQLite behind the common sql::Database interface, and the pool under it: the embedded default
// database, so the service's main job runs with no server.
//
//   auto db = scopeflow::sqlite::make_sqlite_database(
//       {.name = "state", .max_size = 4},
//       {.path = "state/events.db", .busy_timeout = 2s});
//   db->query(task_scope, "SELECT name FROM customers WHERE id = $1", {{"42"}});
//   db->execute_batch(task_scope, "INSERT INTO t(k, v) VALUES ($1, $2) "
//                                 "ON CONFLICT (k) DO UPDATE SET v = excluded.v", rows);
//   db->close(5s);
//
// Behaviour (beyond sql/database.h):
// - Each call leases a connection from a Pool<sqlite::Connection> for its duration, tracked in
//   the caller's scope. A connection that reports itself broken() is discarded, never reused.
// - execute_batch runs in one BEGIN IMMEDIATE transaction, committed only if every row
//   succeeded; otherwise rolled back and the error names the failing row.
// - WAL (the default for files) lets readers run while one writer writes; writers queue on the
//   busy timeout, then fail with TransientError.
// - In-memory: a path of ":memory:" (or empty) would give every pooled connection a database of
//   its own. sqlite::make_pool instead opens one named in-memory database per pool
//   ("file:/scopeflow-<n>-<name>?vfs=memdb", SQLite's memdb VFS, shared by the pool's
//   connections with ordinary locking and busy timeouts), and keeps one extra connection to it
//   open for the pool's life, so the data survives idle eviction and max_lifetime rotation. The
//   data is lost when the pool is destroyed. Two pools never share an in-memory database.
//
// Thread safety: as sql::Database and Pool: every member may be called concurrently.
#pragma once

#include <memory>
#include <utility>

#include <scopeflow/pool/pool.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/sqlite/connection.h>

namespace scopeflow::sqlite {

using ConnectionPool = Pool<Connection>;

// A pool of connections to one database. `pool.name` empty: the connection's name or path.
// Hooks: connect = Connection::open, validate = !broken() && ping(), close = Connection::close,
// broken = Connection::broken() (checked on every return: a connection that broke while leased
// is discarded whichever lease returned it). Throws ConfigError for invalid pool options.
[[nodiscard]] std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool,
                                                        ConnectionOptions connection);

[[deprecated("use sqlite::make_pool")]] inline std::shared_ptr<ConnectionPool> make_sqlite_pool(
    PoolOptions pool, ConnectionOptions connection) {
    return make_pool(std::move(pool), std::move(connection));
}

// The pool's broken hook discards a connection that broke: a plain release() does the same.
[[deprecated("use lease.release()")]] inline void give_back(ConnectionPool::Lease& lease) noexcept {
    lease.release();
}

// sql::Database over sqlite::make_pool (engine() is "sqlite").
std::shared_ptr<sql::Database> make_sqlite_database(PoolOptions pool, ConnectionOptions connection);

}  // namespace scopeflow::sqlite
