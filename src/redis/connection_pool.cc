#include <memory>
#include <utility>

#include <scopeflow/redis/connection_pool.h>

namespace scopeflow {

std::shared_ptr<RedisPool> make_redis_pool(PoolOptions pool, redis::ConnectionOptions connection) {
    redis::validate(connection);
    if (pool.name.empty()) {
        pool.name = redis::describe(connection);
    }
    auto options = std::make_shared<const redis::ConnectionOptions>(std::move(connection));
    return make_pool<redis::Connection>(
        std::move(pool), {.connect = [options] { return redis::Connection::open(*options); },
                          .validate = [](redis::Connection& c) { return !c.broken() && c.ping(); },
                          .close = [](redis::Connection& c) { c.close(); },
                          .broken = [](const redis::Connection& c) { return c.broken(); }});
}

}  // namespace scopeflow
