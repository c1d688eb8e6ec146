// Pooled PostgreSQL: a Pool<pg::Connection> with the right hooks, and sql::Database over it.
//
//   auto pool = scopeflow::pg::make_pool({.name = "orders-db", .max_size = 8}, options);
//   pool->with(worker_scope, [&](pg::Connection& c) {
//       return c.exec("SELECT name FROM customers WHERE id = $1", {{"42"}});
//   });                                            // a connection that broke is discarded
//
//   std::shared_ptr<sql::Database> db = scopeflow::pg::make_postgres_database(
//       {.name = "orders_db", .max_size = 8}, options);
//   resources.add("orders_db", db);                // sql_lookup / sql_upsert find it by name
//
// Behaviour:
// - connect: Connection::open (ConnectError / AuthenticationError propagate);
//   validate (on borrow after validate_if_idle_for): false when broken, else SELECT 1;
//   close: Connection::close; broken (on every return): the connection saw a connection-level
//   failure, or its holder left a transaction open. Either way the pool closes it and replaces
//   it instead of lending it again, whichever lease type returned it.
// - The database rethrows a lost connection as pg::ConnectionLost (TransientError) and other
//   failures unchanged, each message prefixed with "database '<name>'". execute_batch runs the
//   rows in pipeline mode inside one transaction.
//
// Thread safety: as Pool<T> and sql::Database: every member may be called concurrently.
#pragma once

#include <memory>
#include <source_location>
#include <utility>

#include <scopeflow/core/scope.h>
#include <scopeflow/pool/pool.h>
#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/connection_options.h>
#include <scopeflow/sql/database.h>

namespace scopeflow::pg {

using ConnectionPool = Pool<Connection>;

// Validates both option sets (ConfigError) and creates the pool; connects nothing yet.
[[nodiscard]] std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool_options,
                                                        ConnectionOptions options);

[[deprecated("use pg::make_pool")]] inline std::shared_ptr<ConnectionPool> make_postgres_pool(
    PoolOptions pool_options, ConnectionOptions options) {
    return make_pool(std::move(pool_options), std::move(options));
}

template <typename F>
[[deprecated("use pool.with(owner, fn)")]] decltype(auto) with_connection(
    ConnectionPool& pool,
    Scope& owner,
    F&& fn,
    std::source_location site = std::source_location::current()) {
    return pool.with(owner, std::forward<F>(fn), site);
}

// sql::Database over a pool of PostgreSQL connections (see sql/database.h).
[[nodiscard]] std::shared_ptr<sql::Database> make_postgres_database(PoolOptions pool_options,
                                                                    ConnectionOptions options);

}  // namespace scopeflow::pg
