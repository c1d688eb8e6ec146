#include <utility>

#include <scopeflow/budget/tracked_mutex.h>
#include <scopeflow/core/scope.h>

#include "budget/semaphore_state.h"

namespace scopeflow {

TrackedLock& TrackedLock::operator=(TrackedLock&& other) noexcept {
    if (this != &other) {
        unlock();
        state_ = std::move(other.state_);
        ticket_ = std::move(other.ticket_);
        hold_ = std::exchange(other.hold_, 0);
    }
    return *this;
}

void TrackedLock::unlock() noexcept {
    if (state_ != nullptr) {
        ticket_.release();
        state_->release(std::exchange(hold_, 0));
        state_.reset();
    }
}

TrackedMutex::TrackedMutex(TrackedMutexOptions options)
    : state_(std::make_shared<detail::SemaphoreState>(std::move(options.name),
                                                      "mutex",
                                                      ResourceKind::lock,
                                                      1,
                                                      options.acquire_timeout,
                                                      options.long_hold)) {}

TrackedMutex::~TrackedMutex() = default;

TrackedLock TrackedMutex::lock(Scope& owner, std::source_location site) {
    return lock(owner, state_->acquire_timeout, site);
}

TrackedLock TrackedMutex::lock(Scope& owner,
                               std::chrono::milliseconds timeout,
                               std::source_location site) {
    Ticket ticket = owner.track({state_->name, ResourceKind::lock}, site);
    state_->wait(owner, timeout);
    return grant(owner, std::move(ticket), site);
}

TrackedLock TrackedMutex::try_lock(Scope& owner, std::source_location site) {
    Ticket ticket = owner.track({state_->name, ResourceKind::lock}, site);
    if (!state_->quota.try_acquire(1)) {
        return {};
    }
    return grant(owner, std::move(ticket), site);
}

TrackedLock TrackedMutex::grant(Scope& owner, Ticket ticket, const std::source_location& site) {
    TrackedLock l;
    l.hold_ = state_->begin_hold(owner, site);
    l.ticket_ = std::move(ticket);
    l.state_ = state_;
    return l;
}

const std::string& TrackedMutex::name() const noexcept {
    return state_->name;
}

std::optional<Holder> TrackedMutex::holder() const {
    std::vector<Holder> hs = state_->holders();
    if (hs.empty()) {
        return std::nullopt;
    }
    return std::move(hs.front());
}

TrackedMutexStats TrackedMutex::stats() const {
    const auto c = state_->quota.counters();
    return {.name = state_->name,
            .locked = c.used > 0,
            .waiting = c.waiting,
            .acquired = c.acquired,
            .contended = c.waits,
            .timeouts = c.timeouts,
            .cancelled = c.cancelled,
            .long_holds = state_->long_holds(),
            .hold_time = state_->hold_time.snapshot()};
}

}  // namespace scopeflow
