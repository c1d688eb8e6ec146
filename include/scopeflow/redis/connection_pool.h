// redis::make_pool: a Pool<redis::Connection> (see scopeflow/pool/pool.h) wired with Redis hooks.
//
//   auto pool = scopeflow::redis::make_pool({.name = "cache", .max_size = 8},
//                                           {.host = "127.0.0.1", .port = 6379, .password = pw});
//   pool->with(worker_scope, [](redis::Connection& c) { c.command({"INCR", "hits"}); });
//
// Hooks: connect = Connection::open(options); validate = !broken() && PING (run when a
// connection is borrowed after sitting idle longer than validate_if_idle_for); close =
// Connection::close(); broken = Connection::broken(), checked on every return, so a connection
// that broke while leased is discarded whichever lease returned it. A pool with no name is
// named after the server ("redis://host:port/db"). redis::Client adds retries on top.
//
// Thread safety: as Pool.
#pragma once

#include <memory>
#include <utility>

#include <scopeflow/pool/pool.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/connection_options.h>

namespace scopeflow {
namespace redis {

using ConnectionPool = Pool<Connection>;

// Validates both option sets (ConfigError) and creates the pool; connects nothing yet.
[[nodiscard]] std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool,
                                                        ConnectionOptions connection);

}  // namespace redis

using RedisPool = redis::ConnectionPool;

[[deprecated("use redis::make_pool")]] inline std::shared_ptr<RedisPool> make_redis_pool(
    PoolOptions pool, redis::ConnectionOptions connection) {
    return redis::make_pool(std::move(pool), std::move(connection));
}

}  // namespace scopeflow
