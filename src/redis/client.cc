#include <chrono>
#include <string>
#include <utility>

#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/redis/client.h>

namespace scopeflow::redis {

Client::Client(std::shared_ptr<RedisPool> pool)
    : pool_(std::move(pool)) {
    if (pool_ == nullptr) {
        throw ConfigError("redis.client", "a client needs a pool");
    }
}

RedisPool::Lease Client::acquire_for(Scope& owner, bool verify, const std::source_location& site) {
    RedisPool::Lease lease = pool_->acquire(owner, site);
    if (!verify) {
        return lease;
    }
    // After a failure other idle connections may be dead too (a server restart kills them all):
    // prove this one alive, discarding dead ones, at most one pass over the pool plus a new one.
    for (std::size_t tries = 0;; ++tries) {
        if (lease->ping()) {
            return lease;
        }
        lease.mark_broken();
        lease.release();
        if (tries > pool_->options().max_size) {
            throw ConnectionLost("pool '" + pool_->name() + "': no connection answered PING");
        }
        lease = pool_->acquire(owner, site);
    }
}

void Client::sleep_for(std::chrono::milliseconds d, Scope& owner) {
    if (!scopeflow::sleep_for(d, owner.stop_token())) {
        throw CancelledError("pool '" + pool_->name() + "': stopped while waiting to retry");
    }
}

Reply Client::command(Scope& owner,
                      std::initializer_list<std::string_view> args,
                      std::source_location site) {
    return run(
        owner, [&](Connection& c) { return c.command(args); }, {}, site);
}

std::vector<Reply> Client::exec(Scope& owner, const Batch& batch, std::source_location site) {
    return run(
        owner, [&](Connection& c) { return c.exec(batch); }, {}, site);
}

bool Client::ping(Scope& owner) {
    try {
        return pool_->with(owner, [](Connection& c) { return c.ping(); });
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
        return false;
    }
}

}  // namespace scopeflow::redis
