// The shared state behind Semaphore and TrackedMutex (a semaphore of one permit): the FIFO quota,
// the book of current holds (who, where, since when) and the hold-time metrics. Permits and locks
// hold it by shared_ptr, so they may outlive the object that handed them out.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/budget/holder.h>
#include <scopeflow/core/histogram.h>
#include <scopeflow/core/resource_kind.h>

#include "budget/fifo_quota.h"

namespace scopeflow {
class Scope;
class ResourceMonitor;
}  // namespace scopeflow

namespace scopeflow::detail {

struct SemaphoreState {
    using Clock = std::chrono::steady_clock;

    SemaphoreState(std::string name_,
                   std::string_view what_,
                   ResourceKind kind_,
                   std::size_t permits_,
                   std::chrono::milliseconds acquire_timeout_,
                   std::chrono::milliseconds long_hold_);

    // Waits for one permit; throws BudgetTimeoutError / CancelledError.
    void wait(Scope& owner, std::chrono::milliseconds timeout);
    // Records a hold that just got its permit; gives the permit back if recording throws.
    std::uint64_t begin_hold(Scope& owner, const std::source_location& site);
    // Ends a hold: hold time, long-hold report, then the permit goes back to the quota.
    void release(std::uint64_t hold) noexcept;
    [[nodiscard]] std::vector<Holder> holders() const;
    [[nodiscard]] std::uint64_t long_holds() const;

    struct Hold {
        std::string owner_path;
        std::string site;
        ResourceMonitor* monitor = nullptr;  // the owner scope's
        Clock::time_point since;
    };

    const std::string name;
    const std::string what;  // "semaphore" or "mutex": the first word of messages
    const ResourceKind kind;
    const std::size_t permits;
    const std::chrono::milliseconds acquire_timeout;
    const std::chrono::milliseconds long_hold;
    FifoQuota quota;
    Histogram hold_time;

private:
    [[nodiscard]] std::string timeout_message(std::chrono::milliseconds timeout) const;

    mutable std::mutex mu_;
    std::map<std::uint64_t, Hold> holds_;  // guarded by mu_; by hold id
    std::uint64_t next_hold_ = 0;          // guarded by mu_
    std::uint64_t long_holds_ = 0;         // guarded by mu_
};

}  // namespace scopeflow::detail
