#include <utility>

#include <scopeflow/budget/semaphore.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "budget/semaphore_state.h"

namespace scopeflow {

SemaphorePermit& SemaphorePermit::operator=(SemaphorePermit&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        ticket_ = std::move(other.ticket_);
        hold_ = std::exchange(other.hold_, 0);
    }
    return *this;
}

void SemaphorePermit::release() noexcept {
    if (state_ != nullptr) {
        ticket_.release();
        state_->release(std::exchange(hold_, 0));
        state_.reset();
    }
}

Semaphore::Semaphore(SemaphoreOptions options) {
    if (options.permits == 0) {
        throw ConfigError("semaphore." + options.name + ".permits", "must be at least 1");
    }
    state_ = std::make_shared<detail::SemaphoreState>(std::move(options.name), "semaphore",
                                                      ResourceKind::semaphore, options.permits,
                                                      options.acquire_timeout, options.long_hold);
}

Semaphore::~Semaphore() = default;

SemaphorePermit Semaphore::acquire(Scope& owner, std::source_location site) {
    return acquire(owner, state_->acquire_timeout, site);
}

SemaphorePermit Semaphore::acquire(Scope& owner,
                                   std::chrono::milliseconds timeout,
                                   std::source_location site) {
    Ticket ticket = owner.track({state_->name, ResourceKind::semaphore}, site);
    state_->wait(owner, timeout);
    return grant(owner, std::move(ticket), site);
}

SemaphorePermit Semaphore::try_acquire(Scope& owner, std::source_location site) {
    Ticket ticket = owner.track({state_->name, ResourceKind::semaphore}, site);
    if (!state_->quota.try_acquire(1)) {
        return {};
    }
    return grant(owner, std::move(ticket), site);
}

SemaphorePermit Semaphore::grant(Scope& owner, Ticket ticket, const std::source_location& site) {
    SemaphorePermit p;
    p.hold_ = state_->begin_hold(owner, site);
    p.ticket_ = std::move(ticket);
    p.state_ = state_;
    return p;
}

const std::string& Semaphore::name() const noexcept {
    return state_->name;
}

SemaphoreStats Semaphore::stats() const {
    const auto c = state_->quota.counters();
    return {.name = state_->name,
            .permits = state_->permits,
            .in_use = static_cast<std::size_t>(c.used),
            .peak = static_cast<std::size_t>(c.peak),
            .waiting = c.waiting,
            .acquired = c.acquired,
            .waits = c.waits,
            .timeouts = c.timeouts,
            .cancelled = c.cancelled,
            .long_holds = state_->long_holds(),
            .hold_time = state_->hold_time.snapshot()};
}

std::vector<Holder> Semaphore::holders() const {
    return state_->holders();
}

}  // namespace scopeflow
