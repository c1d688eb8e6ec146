#include <memory>
#include <utility>

#include <scopeflow/redis/connection_pool.h>

namespace scopeflow::redis {

std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool, ConnectionOptions connection) {
    validate(connection);
    if (pool.name.empty()) {
        pool.name = describe(connection);
    }
    auto options = std::make_shared<const ConnectionOptions>(std::move(connection));
    return ConnectionPool::create(
        std::move(pool), {.connect = [options] { return Connection::open(*options); },
                          .validate = [](Connection& c) { return !c.broken() && c.ping(); },
                          .close = [](Connection& c) { c.close(); },
                          .broken = [](const Connection& c) { return c.broken(); }});
}

}  // namespace scopeflow::redis
