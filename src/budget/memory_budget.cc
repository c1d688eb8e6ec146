#include <utility>

#include <scopeflow/budget/budget_error.h>
#include <scopeflow/budget/memory_budget.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "budget/fifo_quota.h"

namespace scopeflow {

MemoryReservation::MemoryReservation(MemoryReservation&& other) noexcept
    : state_(std::move(other.state_)),
      ticket_(std::move(other.ticket_)),
      bytes_(std::exchange(other.bytes_, 0)) {}

MemoryReservation& MemoryReservation::operator=(MemoryReservation&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        ticket_ = std::move(other.ticket_);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

void MemoryReservation::release() noexcept {
    if (state_ != nullptr) {
        ticket_.release();
        state_->quota.release(bytes_);
        state_.reset();
        bytes_ = 0;
    }
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::move(other.data_);
        size_ = std::exchange(other.size_, 0);
        reservation_ = std::move(other.reservation_);
    }
    return *this;
}

void Buffer::release() noexcept {
    data_.reset();
    size_ = 0;
    reservation_.release();
}

MemoryBudget::MemoryBudget(MemoryBudgetOptions options) {
    if (options.capacity_bytes == 0) {
        throw ConfigError("memory_budget." + options.name + ".capacity_bytes",
                          "must be at least 1");
    }
    state_ = std::make_shared<detail::BudgetState>(std::move(options.name), options.capacity_bytes,
                                                   options.acquire_timeout);
}

MemoryBudget::~MemoryBudget() = default;

void MemoryBudget::check_size(std::uint64_t bytes) const {
    const auto c = state_->quota.counters();
    if (bytes > c.capacity) {
        throw Error("memory budget '" + state_->name + "': a request of " + std::to_string(bytes) +
                    " bytes exceeds its capacity of " + std::to_string(c.capacity) + " bytes");
    }
}

MemoryReservation MemoryBudget::acquire(Scope& owner,
                                        std::uint64_t bytes,
                                        std::source_location site) {
    return acquire(owner, bytes, state_->acquire_timeout, site);
}

MemoryReservation MemoryBudget::acquire(Scope& owner,
                                        std::uint64_t bytes,
                                        std::chrono::milliseconds timeout,
                                        std::source_location site) {
    check_size(bytes);
    Ticket ticket = owner.track(
        {.name = state_->name, .kind = ResourceKind::buffer_bytes, .amount = bytes}, site);
    switch (state_->quota.acquire(bytes, owner.stop_token(),
                                  detail::FifoQuota::deadline_after(timeout))) {
        case detail::FifoQuota::Outcome::acquired:
            return grant(std::move(ticket), bytes);
        case detail::FifoQuota::Outcome::cancelled:
            throw CancelledError("memory budget '" + state_->name + "': acquire of " +
                                 std::to_string(bytes) + " bytes cancelled (scope '" +
                                 owner.path() + "' stopped)");
        case detail::FifoQuota::Outcome::timed_out:
            break;
    }
    const auto c = state_->quota.counters();
    throw BudgetTimeoutError("memory budget '" + state_->name + "': " + std::to_string(bytes) +
                             " bytes not available within " + std::to_string(timeout.count()) +
                             "ms (used " + std::to_string(c.used) + " of " +
                             std::to_string(c.capacity) + ", peak " + std::to_string(c.peak) +
                             ", " + std::to_string(c.waiting) + " waiting)");
}

MemoryReservation MemoryBudget::try_acquire(Scope& owner,
                                            std::uint64_t bytes,
                                            std::source_location site) {
    check_size(bytes);
    Ticket ticket = owner.track(
        {.name = state_->name, .kind = ResourceKind::buffer_bytes, .amount = bytes}, site);
    if (!state_->quota.try_acquire(bytes)) {
        return {};
    }
    return grant(std::move(ticket), bytes);
}

MemoryReservation MemoryBudget::grant(Ticket ticket, std::uint64_t bytes) noexcept {
    MemoryReservation r;
    r.state_ = state_;
    r.ticket_ = std::move(ticket);
    r.bytes_ = bytes;
    return r;
}

Buffer MemoryBudget::allocate(Scope& owner,
                              std::size_t bytes,
                              std::chrono::milliseconds timeout,
                              std::source_location site) {
    Buffer b;
    b.reservation_ = acquire(owner, bytes, timeout, site);
    b.data_ = std::make_unique_for_overwrite<std::byte[]>(bytes);
    b.size_ = bytes;
    return b;
}

Buffer MemoryBudget::allocate(Scope& owner, std::size_t bytes, std::source_location site) {
    return allocate(owner, bytes, state_->acquire_timeout, site);
}

const std::string& MemoryBudget::name() const noexcept {
    return state_->name;
}

MemoryBudgetStats MemoryBudget::stats() const {
    const auto c = state_->quota.counters();
    return {.name = state_->name,
            .capacity = c.capacity,
            .used = c.used,
            .peak = c.peak,
            .waiting = c.waiting,
            .acquired = c.acquired,
            .waits = c.waits,
            .timeouts = c.timeouts,
            .cancelled = c.cancelled};
}

}  // namespace scopeflow
