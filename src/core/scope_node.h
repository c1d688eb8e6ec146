// ScopeNode: the shared state behind a Scope handle. Private to the library.
//
// Ownership: the Scope handle and the parent's child list hold the node by shared_ptr; a child
// holds its parent by shared_ptr (so paths stay computable). The parent's reference is dropped
// when the child finishes closing, which breaks the cycle. A thread running a close holds the
// node too, so a cleanup abandoned on its thread never outlives the memory it works on.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <stop_token>
#include <string>
#include <vector>

#include <scopeflow/core/detail/resource_ops.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "core/close_job.h"

namespace scopeflow::detail {

// One adopted resource or deferred cleanup. Entries never move once created (they live in
// fixed-size blocks), so references handed out by adopt() stay valid until release.
struct Entry {
    static constexpr std::size_t kInlineSize = 48;

    alignas(std::max_align_t) std::byte storage[kInlineSize];
    void* object = nullptr;  // into storage, or a heap block when too large
    const ResourceOps* ops = nullptr;
    LedgerId ledger_id;
    std::source_location site;
    std::string name;
    ResourceKind kind = ResourceKind::other;
    bool heap = false;
};

// A stack of entries in blocks of kBlockSize; the first block is inline in the node.
class EntryStack {
public:
    static constexpr std::size_t kBlockSize = 4;

    EntryStack() = default;
    EntryStack(const EntryStack&) = delete;
    EntryStack& operator=(const EntryStack&) = delete;

    Entry& push() {
        const std::size_t n = size_.load(std::memory_order_relaxed);
        const std::size_t block = n / kBlockSize;
        if (block > 0 && block > overflow_.size()) {
            overflow_.push_back(std::make_unique<std::array<Entry, kBlockSize>>());
        }
        size_.store(n + 1, std::memory_order_relaxed);
        return at(n);
    }
    // Undoes a push() whose entry was never filled.
    void pop_unpushed() noexcept { size_.store(size() - 1, std::memory_order_relaxed); }
    Entry* pop() noexcept {
        const std::size_t n = size();
        if (n == 0) {
            return nullptr;
        }
        size_.store(n - 1, std::memory_order_relaxed);
        return &at(n - 1);
    }
    // Atomic only so that a lock-free reader (resource_count) never races a lone closer; every
    // writer is either under the node's lock or the only worker of an unwatched close.
    [[nodiscard]] std::size_t size() const noexcept {
        return size_.load(std::memory_order_relaxed);
    }

private:
    Entry& at(std::size_t i) noexcept {
        return i < kBlockSize ? first_[i] : (*overflow_[i / kBlockSize - 1])[i % kBlockSize];
    }

    std::array<Entry, kBlockSize> first_;
    std::vector<std::unique_ptr<std::array<Entry, kBlockSize>>> overflow_;
    std::atomic<std::size_t> size_{0};
};

class ScopeNode final : public LedgerOwner, public std::enable_shared_from_this<ScopeNode> {
public:
    ScopeNode(std::string name, const ScopeOptions& options, std::shared_ptr<ScopeNode> parent);
    ~ScopeNode();

    [[nodiscard]] std::string owner_path() const override;

    std::shared_ptr<ScopeNode> make_child(std::string name, const ScopeOptions& options);

    void* adopt(const ResourceInfo& info,
                const std::source_location& site,
                const ResourceOps& ops,
                void* source,
                bool hit_fault_point);
    void acquire_point(std::string_view name);
    Ticket track(const ResourceInfo& info, const std::source_location& site);

    // Closes the subtree and returns every failure (never throws for cleanup failures).
    std::vector<CleanupFailure> close_collect(std::chrono::nanoseconds cleanup_timeout);

    // The body of a close, run by one worker of `job`. Returns early if the worker is abandoned.
    // Returns false, doing nothing, when a close that `job` is nested in holds this node.
    bool close_in(const CloseWorker& worker);

    void request_stop();
    std::stop_token stop_token();

    [[nodiscard]] bool closed() const;
    [[nodiscard]] std::size_t resource_count() const;

    const std::string name_;
    const std::shared_ptr<ScopeNode> parent_;
    const ScopeLevel level_;
    ResourceMonitor* const monitor_;
    FaultInjector* const faults_;
    Ledger* const ledger_;  // null when not tracking
    const std::chrono::nanoseconds close_timeout_;

private:
    enum class State : unsigned char { open, closing, closed };

    struct StopForward {
        std::stop_source* target;
        void operator()() const noexcept { target->request_stop(); }
    };

    void release_entry(Entry& e, const CloseWorker& worker);
    void finish_close();
    void remove_child(const ScopeNode* child) noexcept;

    mutable std::mutex mu_;
    std::condition_variable closed_cv_;
    State state_ = State::open;              // guarded by mu_
    std::atomic<bool> closed_{false};        // mirrors state_ == closed, for a lock-free closed()
    const CloseJob* closing_job_ = nullptr;  // guarded by mu_; identity only
    EntryStack entries_;                     // guarded by mu_ (push/pop)
    std::vector<std::shared_ptr<ScopeNode>>
        children_;                                 // guarded by mu_; open children, oldest first
    std::optional<std::stop_source> stop_source_;  // guarded by mu_ (creation)
    // Declared after stop_source_: destroyed first, since it points at it.
    std::optional<std::stop_callback<StopForward>> parent_link_;  // guarded by mu_ (creation)
};

}  // namespace scopeflow::detail
