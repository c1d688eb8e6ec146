#include <scopeflow/postgres/postgres_pool.h>

namespace scopeflow::pg {

std::shared_ptr<ConnectionPool> make_pool(PoolOptions pool_options, ConnectionOptions options) {
    validate_pool_options(pool_options);
    options.validate("pool." + pool_options.name + ".postgres");
    return ConnectionPool::create(
        std::move(pool_options),
        {.connect = [options = std::move(options)] { return Connection::open(options); },
         .validate = [](Connection& c) { return c.ping(); },
         .close = [](Connection& c) { c.close(); },
         // A transaction left open would leak its state into the next borrower's statements.
         .broken = [](const Connection& c) { return c.broken() || c.in_transaction(); }});
}

}  // namespace scopeflow::pg
