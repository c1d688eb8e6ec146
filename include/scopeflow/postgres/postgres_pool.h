// Pooled PostgreSQL: a Pool<pg::Connection> with the right hooks, and sql::Database over it.
//
//   auto pool = scopeflow::pg::make_postgres_pool({.name = "orders-db", .max_size = 8}, options);
//   pg::with_connection(*pool, worker_scope, [&](pg::Connection& c) {
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
//   close: Connection::close.
// - with_connection() and every sql::Database call mark the lease broken when the connection
//   broke during the call, so the pool closes it and replaces it instead of lending it again.
// - The database rethrows a lost connection as pg::ConnectionLost (TransientError) and other
//   failures unchanged, each message prefixed with "database '<name>'". execute_batch runs the
//   rows in pipeline mode inside one transaction.
//
// Thread safety: as Pool<T> and sql::Database: every member may be called concurrently.
#pragma once

#include <memory>
#include <source_location>
#include <utility>

#include <scopeflow/pool/pool.h>
#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/connection_options.h>
#include <scopeflow/sql/database.h>

namespace scopeflow::pg {

using ConnectionPool = Pool<Connection>;

// Validates both option sets (ConfigError) and creates the pool; connects nothing yet.
[[nodiscard]] std::shared_ptr<ConnectionPool> make_postgres_pool(PoolOptions pool_options,
                                                                 ConnectionOptions options);

// Runs fn(connection) on a connection leased for `owner`. If the connection broke meanwhile (fn
// threw ConnectionLost, or anything else left it broken), or fn left a transaction open, the
// lease is marked broken: the pool closes the connection instead of lending it again.
template <typename F>
decltype(auto) with_connection(ConnectionPool& pool,
                               Scope& owner,
                               F&& fn,
                               std::source_location site = std::source_location::current()) {
    auto lease = pool.acquire(owner, site);
    struct Discard {
        ConnectionPool::Lease& lease;
        ~Discard() {
            if (lease->broken() || lease->in_transaction()) {
                lease.mark_broken();
            }
        }
    } discard{lease};
    return std::forward<F>(fn)(*lease);
}

// sql::Database over a pool of PostgreSQL connections (see sql/database.h).
[[nodiscard]] std::shared_ptr<sql::Database> make_postgres_database(PoolOptions pool_options,
                                                                    ConnectionOptions options);

}  // namespace scopeflow::pg
