// make_redis_pool: a Pool<redis::Connection> (see scopeflow/pool/pool.h) wired with Redis hooks.
//
//   auto pool = scopeflow::make_redis_pool({.name = "cache", .max_size = 8},
//                                          {.host = "127.0.0.1", .port = 6379, .password = pw});
//   {
//       auto lease = pool->acquire(worker_scope);
//       redis::LeaseGuard guard(lease);     // marks the lease broken if the connection broke
//       lease->command({"INCR", "hits"});
//   }
//
// Hooks: connect = Connection::open(options); validate = !broken() && PING (run when a
// connection is borrowed after sitting idle longer than validate_if_idle_for); close =
// Connection::close(). A pool with no name is named after the server ("redis://host:port/db").
//
// A raw Pool lease does not know that its connection broke: use LeaseGuard (or redis::Client,
// which does it for you) so a broken connection is discarded when the lease returns, instead of
// waiting for the next validation.
//
// Thread safety: as Pool.
#pragma once

#include <memory>

#include <scopeflow/pool/pool.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/connection_options.h>

namespace scopeflow {

using RedisPool = Pool<redis::Connection>;

// Validates both option sets (ConfigError) and creates the pool; connects nothing yet.
[[nodiscard]] std::shared_ptr<RedisPool> make_redis_pool(PoolOptions pool,
                                                         redis::ConnectionOptions connection);

namespace redis {

// Marks `lease` broken, when it goes out of scope, if its connection broke meanwhile.
class [[nodiscard]] LeaseGuard {
public:
    explicit LeaseGuard(RedisPool::Lease& lease) noexcept
        : lease_(&lease) {}
    LeaseGuard(const LeaseGuard&) = delete;
    LeaseGuard& operator=(const LeaseGuard&) = delete;
    ~LeaseGuard() {
        if (*lease_ && (*lease_)->broken()) {
            lease_->mark_broken();
        }
    }

private:
    RedisPool::Lease* lease_;
};

}  // namespace redis
}  // namespace scopeflow
