// Ledger: the record of every live resource, who owns it, where and when it was acquired.
//
// Scopes record each adopted resource here; pools and connectors record what they hand out
// through Scope::track(). The ledger answers "what is alive right now, per kind and per owner"
// (snapshot) and "what did this owner still hold when it ended" (orphan), which is the leak
// report. It never owns the resources themselves.
//
//   scopeflow::Ledger& ledger = scopeflow::Ledger::global();
//   auto id = ledger.acquire({.name = "db", .kind = ResourceKind::connection}, owner, site);
//   ...
//   ledger.release(id);
//   assert(ledger.live_total() == 0);
//
// Thread safety: every member is safe to call concurrently. The ledger is sharded by the
// acquiring thread, so acquisitions from different threads rarely contend.
// Lifetime: an owner passed to acquire() must outlive its live entries or hand them over with
// orphan() before it dies (Scope does both).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/core/resource_kind.h>

namespace scopeflow {

// Describes a resource when it is acquired. Used with designated initializers:
//   {.name = "orders-db", .kind = ResourceKind::connection}
struct ResourceInfo {
    std::string_view name;                    // shown in reports; need not be unique
    ResourceKind kind = ResourceKind::other;  // drives the per-kind live counts
    std::uint64_t amount = 1;                 // bytes for buffer_bytes, else usually 1
};

// Something that owns ledger entries (a scope, a pool). Counts its live entries so it can tell,
// cheaply, whether it ended holding anything.
class LedgerOwner {
public:
    LedgerOwner() = default;
    LedgerOwner(const LedgerOwner&) = delete;
    LedgerOwner& operator=(const LedgerOwner&) = delete;

    // "service/pipeline/enrich/worker-1". Must be callable from any thread while entries live.
    [[nodiscard]] virtual std::string owner_path() const = 0;

    // Counted entries recorded with this owner and not yet released (see Ledger::acquire).
    [[nodiscard]] std::int64_t live_entries() const noexcept {
        return live_entries_.load(std::memory_order_acquire);
    }

protected:
    virtual ~LedgerOwner() = default;

private:
    friend class Ledger;
    std::atomic<std::int64_t> live_entries_{0};
};

// An opaque handle to one ledger entry; 0 means "not recorded".
struct LedgerId {
    std::uint64_t value = 0;
    explicit operator bool() const noexcept { return value != 0; }
};

// A copy of one live entry, for reports and snapshots.
struct LedgerEntry {
    std::uint64_t id = 0;
    ResourceKind kind = ResourceKind::other;
    std::string name;
    std::string owner_path;  // empty when recorded without an owner
    std::string site;        // "src/file.cc:42"
    std::uint64_t amount = 1;
    std::chrono::nanoseconds age{};  // since acquisition (coarse clock, ~4 ms resolution)
    bool stuck = false;              // its release overran a close deadline and was abandoned
    bool orphaned = false;           // its owner ended while it was still live: a leak
};

// Told when an orphaned entry (its owner ended while it was live: a leak) is released after
// all. ResourceMonitor implements it to report ReportKind::late_release.
class OrphanObserver {
public:
    // Called once per orphan, on the releasing thread, after the ledger's lock is dropped.
    virtual void orphan_released(const LedgerEntry& entry) noexcept = 0;

protected:
    OrphanObserver() = default;
    OrphanObserver(const OrphanObserver&) = default;
    OrphanObserver& operator=(const OrphanObserver&) = default;
    virtual ~OrphanObserver() = default;
};

struct KindCount {
    std::uint64_t entries = 0;  // live entries of this kind
    std::uint64_t amount = 0;   // sum of their amounts (bytes for buffer_bytes)
};

struct OwnerKindCount {
    std::string owner_path;
    ResourceKind kind = ResourceKind::other;
    KindCount count;
};

struct LedgerSnapshot {
    std::array<KindCount, kResourceKindCount> by_kind{};
    std::vector<OwnerKindCount> by_owner;  // sorted by owner path, then kind
    std::vector<LedgerEntry> entries;      // every live entry, oldest first
    std::uint64_t acquired_total = 0;      // since the ledger was created
    std::uint64_t released_total = 0;

    [[nodiscard]] std::uint64_t live_total() const noexcept {
        return acquired_total - released_total;
    }
};

class Ledger {
public:
    Ledger();
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // The process-wide ledger. Never destroyed, so detached threads finishing an abandoned
    // cleanup during exit still find it.
    static Ledger& global();

    // Records a live resource. Never throws except std::bad_alloc.
    // `counted`: the entry may outlive the owner's own release work (a ticket, a lease), so it
    // is counted in owner->live_entries() and the owner can tell cheaply at its end whether it
    // leaked. Pass false for entries the owner always releases itself before it ends (a
    // scope's adopted resources); that saves two atomic operations per resource. An uncounted
    // entry becomes counted when it is marked stuck.
    LedgerId acquire(const ResourceInfo& info,
                     LedgerOwner* owner,
                     std::source_location site = std::source_location::current(),
                     bool counted = true);

    // Ends the entry. Returns false if the id is unknown or already released (a double release).
    // Releasing an orphan tells the observer given to orphan() (notify_orphan: false for a
    // caller that reports the late release itself).
    bool release(LedgerId id, bool notify_orphan = true) noexcept;

    // Flags a live entry whose release got stuck; it stays live until the release returns.
    void mark_stuck(LedgerId id) noexcept;

    // Detaches every live entry of `owner` (which is ending) and returns copies of them: the leak
    // report. The entries stay live, flagged orphaned and keeping the owner's path, until released;
    // `observer` (if any) is told of each release and must outlive the entries or be forgotten.
    std::vector<LedgerEntry> orphan(LedgerOwner& owner, OrphanObserver* observer = nullptr);

    // Detaches `observer` from every orphan that would tell it (it is being destroyed).
    void forget_observer(const OrphanObserver* observer) noexcept;

    [[nodiscard]] LedgerSnapshot snapshot() const;
    [[nodiscard]] KindCount live(ResourceKind kind) const noexcept;
    [[nodiscard]] std::uint64_t live_total() const noexcept;

private:
    struct Shard;
    Shard& shard_for_this_thread() noexcept;

    static constexpr std::size_t kShards = 16;
    std::unique_ptr<Shard[]> shards_;
};

}  // namespace scopeflow
