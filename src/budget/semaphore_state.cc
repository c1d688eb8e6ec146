#include "budget/semaphore_state.h"

#include <utility>

#include <scopeflow/budget/budget_error.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "core/format_duration.h"
#include "core/format_site.h"

namespace scopeflow::detail {

SemaphoreState::SemaphoreState(std::string name_,
                               std::string_view what_,
                               ResourceKind kind_,
                               std::size_t permits_,
                               std::chrono::milliseconds acquire_timeout_,
                               std::chrono::milliseconds long_hold_)
    : name(std::move(name_)),
      what(what_),
      kind(kind_),
      permits(permits_),
      acquire_timeout(acquire_timeout_),
      long_hold(long_hold_),
      quota(permits_) {}

void SemaphoreState::wait(Scope& owner, std::chrono::milliseconds timeout) {
    switch (quota.acquire(1, owner.stop_token(), FifoQuota::deadline_after(timeout))) {
        case FifoQuota::Outcome::acquired:
            return;
        case FifoQuota::Outcome::cancelled:
            throw CancelledError(what + " '" + name + "': acquire cancelled (scope '" +
                                 owner.path() + "' stopped)");
        case FifoQuota::Outcome::timed_out:
            break;
    }
    throw BudgetTimeoutError(timeout_message(timeout));
}

std::uint64_t SemaphoreState::begin_hold(Scope& owner, const std::source_location& site) {
    try {
        Hold h{owner.path(), format_site(site.file_name(), site.line()), &owner.monitor(),
               Clock::now()};
        std::lock_guard lock(mu_);
        const std::uint64_t id = ++next_hold_;
        holds_.emplace(id, std::move(h));
        return id;
    } catch (...) {
        quota.release(1);
        throw;
    }
}

void SemaphoreState::release(std::uint64_t hold) noexcept {
    const auto now = Clock::now();
    Hold h;
    bool long_one = false;
    {
        std::lock_guard lock(mu_);
        auto it = holds_.find(hold);
        if (it == holds_.end()) {
            return;  // never recorded: nothing to give back
        }
        h = std::move(it->second);
        holds_.erase(it);
        long_one = long_hold.count() > 0 && now - h.since > long_hold;
        long_holds_ += long_one ? 1 : 0;
    }
    quota.release(1);
    const auto held = now - h.since;
    hold_time.record(held);
    if (long_one && h.monitor != nullptr) {
        try {
            h.monitor->report({.kind = ReportKind::leak,
                               .scope_path = h.owner_path,
                               .resource = name,
                               .resource_kind = kind,
                               .site = h.site,
                               .message = what + " '" + name + "' held for " +
                                          format_duration(held) + " (long_hold " +
                                          format_duration(long_hold) + ")",
                               .elapsed = held});
        } catch (...) {  // NOLINT(bugprone-empty-catch): bad_alloc building the report
        }
    }
}

std::vector<Holder> SemaphoreState::holders() const {
    const auto now = Clock::now();
    std::vector<Holder> out;
    std::lock_guard lock(mu_);
    out.reserve(holds_.size());
    for (const auto& [id, h] : holds_) {
        out.push_back({h.owner_path, h.site, now - h.since});
    }
    return out;
}

std::uint64_t SemaphoreState::long_holds() const {
    std::lock_guard lock(mu_);
    return long_holds_;
}

std::string SemaphoreState::timeout_message(std::chrono::milliseconds timeout) const {
    const FifoQuota::Counters c = quota.counters();
    std::string m = what + " '" + name + "': not acquired within " +
                    std::to_string(timeout.count()) + "ms (" + std::to_string(c.used) + " of " +
                    std::to_string(c.capacity) + " held, " + std::to_string(c.waiting) +
                    " waiting)";
    const std::vector<Holder> hs = holders();
    for (std::size_t i = 0; i < hs.size() && i < 3; ++i) {
        m += i == 0 ? "; held by " : ", ";
        m += hs[i].owner_path + " for " + format_duration(hs[i].held);
        if (!hs[i].site.empty()) {
            m += " (at " + hs[i].site + ")";
        }
    }
    if (hs.size() > 3) {
        m += ", and " + std::to_string(hs.size() - 3) + " more";
    }
    return m;
}

}  // namespace scopeflow::detail
