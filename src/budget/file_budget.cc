#include <utility>

#include <scopeflow/budget/budget_error.h>
#include <scopeflow/budget/file_budget.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/scope.h>

#include "budget/fifo_quota.h"
#include "budget/open_fd.h"

namespace scopeflow {

FilePermit& FilePermit::operator=(FilePermit&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        ticket_ = std::move(other.ticket_);
    }
    return *this;
}

FilePermit FilePermit::unbudgeted(Scope& owner, std::string_view what, std::source_location site) {
    FilePermit p;
    p.ticket_ = owner.track({what, ResourceKind::file}, site);
    return p;
}

void FilePermit::release() noexcept {
    ticket_.release();
    if (state_ != nullptr) {
        state_->quota.release(1);
        state_.reset();
    }
}

FileBudget::FileBudget(FileBudgetOptions options) {
    if (options.max_open == 0) {
        throw ConfigError("file_budget." + options.name + ".max_open", "must be at least 1");
    }
    state_ = std::make_shared<detail::BudgetState>(std::move(options.name), options.max_open,
                                                   options.acquire_timeout);
}

FileBudget::~FileBudget() = default;

FilePermit FileBudget::reserve(Scope& owner, std::string_view what, std::source_location site) {
    return reserve(owner, what, state_->acquire_timeout, site);
}

FilePermit FileBudget::reserve(Scope& owner,
                               std::string_view what,
                               std::chrono::milliseconds timeout,
                               std::source_location site) {
    FilePermit p;
    p.ticket_ = owner.track({what, ResourceKind::file}, site);
    switch (
        state_->quota.acquire(1, owner.stop_token(), detail::FifoQuota::deadline_after(timeout))) {
        case detail::FifoQuota::Outcome::acquired:
            p.state_ = state_;
            return p;
        case detail::FifoQuota::Outcome::cancelled:
            throw CancelledError("file budget '" + state_->name + "': opening '" +
                                 std::string(what) + "' cancelled (scope '" + owner.path() +
                                 "' stopped)");
        case detail::FifoQuota::Outcome::timed_out:
            break;
    }
    const auto c = state_->quota.counters();
    throw BudgetTimeoutError("file budget '" + state_->name + "': no free slot for '" +
                             std::string(what) + "' within " + std::to_string(timeout.count()) +
                             "ms (" + std::to_string(c.used) + " of " + std::to_string(c.capacity) +
                             " open, " + std::to_string(c.waiting) + " waiting)");
}

OpenFile FileBudget::open(
    Scope& owner, const std::string& path, int flags, unsigned mode, std::source_location site) {
    return open(owner, path, flags, mode, state_->acquire_timeout, site);
}

OpenFile FileBudget::open(Scope& owner,
                          const std::string& path,
                          int flags,
                          unsigned mode,
                          std::chrono::milliseconds timeout,
                          std::source_location site) {
    FilePermit permit = reserve(owner, path, timeout, site);
    UniqueFd fd = detail::open_fd(path, flags, mode);  // a throw gives the slot back
    return OpenFile(std::move(fd), path, std::move(permit), owner);
}

const std::string& FileBudget::name() const noexcept {
    return state_->name;
}

FileBudgetStats FileBudget::stats() const {
    const auto c = state_->quota.counters();
    return {.name = state_->name,
            .capacity = static_cast<std::size_t>(c.capacity),
            .open = static_cast<std::size_t>(c.used),
            .peak = static_cast<std::size_t>(c.peak),
            .waiting = c.waiting,
            .acquired = c.acquired,
            .waits = c.waits,
            .timeouts = c.timeouts,
            .cancelled = c.cancelled};
}

}  // namespace scopeflow
