#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include <scopeflow/core/detail/coarse_clock.h>
#include <scopeflow/core/ledger.h>

#include "core/format_site.h"

namespace scopeflow {
namespace {

// LedgerId layout: [generation:24][shard:8][index:32]. Generation 0 is never used, so a valid id
// is never 0.
constexpr std::uint64_t kIndexBits = 32;
constexpr std::uint64_t kShardBits = 8;
constexpr std::uint32_t kGenerationMask = (1U << 24U) - 1U;

std::uint64_t make_id(std::uint32_t generation, std::size_t shard, std::uint32_t index) {
    return (static_cast<std::uint64_t>(generation) << (kIndexBits + kShardBits)) |
           (static_cast<std::uint64_t>(shard) << kIndexBits) | index;
}

// Oldest first: by acquisition time (coarse), then by order within a shard.
using OrderKey = std::pair<std::int64_t, std::uint64_t>;

struct DecodedId {
    std::size_t shard;
    std::uint32_t index;
    std::uint32_t generation;
};

DecodedId decode(LedgerId id) {
    return {static_cast<std::size_t>((id.value >> kIndexBits) & 0xFFU),
            static_cast<std::uint32_t>(id.value & 0xFFFFFFFFU),
            static_cast<std::uint32_t>(id.value >> (kIndexBits + kShardBits))};
}

}  // namespace

struct Ledger::Shard {
    struct Slot {
        std::uint32_t generation = 0;
        bool live = false;
        bool stuck = false;
        bool orphaned = false;
        bool counted = false;  // in owner->live_entries_
        ResourceKind kind = ResourceKind::other;
        std::uint64_t amount = 0;
        std::int64_t acquired_ns = 0;
        std::uint64_t sequence = 0;  // acquisition order within the shard
        LedgerOwner* owner = nullptr;
        OrphanObserver* observer = nullptr;  // told when this orphan is released
        const char* file = nullptr;
        std::uint_least32_t line = 0;
        std::string name;
        std::string orphan_path;  // owner's path, kept once the owner has ended
    };

    mutable std::mutex mu;
    std::vector<Slot> slots;                           // guarded by mu
    std::vector<std::uint32_t> free_slots;             // guarded by mu
    std::array<KindCount, kResourceKindCount> live{};  // guarded by mu
    std::uint64_t acquired = 0;                        // guarded by mu; also the per-shard sequence
    std::uint64_t released = 0;                        // guarded by mu

    LedgerEntry copy(std::size_t shard, std::uint32_t index, std::int64_t now) const {
        const Slot& s = slots[index];
        LedgerEntry e;
        e.id = make_id(s.generation, shard, index);
        e.kind = s.kind;
        e.name = s.name;
        e.owner_path = s.owner != nullptr ? s.owner->owner_path() : s.orphan_path;
        e.site = detail::format_site(s.file, s.line);
        e.amount = s.amount;
        e.age = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - s.acquired_ns));
        e.stuck = s.stuck;
        e.orphaned = s.orphaned;
        return e;
    }
};

namespace {
std::atomic<std::size_t> g_next_thread_shard{0};
}  // namespace

Ledger::Ledger()
    : shards_(std::make_unique<Shard[]>(kShards)) {}
Ledger::~Ledger() = default;

Ledger& Ledger::global() {
    // Deliberately leaked: see the header.
    static Ledger* instance = new Ledger();  // NOLINT(cppcoreguidelines-owning-memory)
    return *instance;
}

Ledger::Shard& Ledger::shard_for_this_thread() noexcept {
    thread_local const std::size_t index =
        g_next_thread_shard.fetch_add(1, std::memory_order_relaxed) % kShards;
    return shards_[index];
}

LedgerId Ledger::acquire(const ResourceInfo& info,
                         LedgerOwner* owner,
                         std::source_location site,
                         bool counted) {
    Shard& shard = shard_for_this_thread();
    const auto shard_index = static_cast<std::size_t>(&shard - shards_.get());
    const std::int64_t now = detail::coarse_now_ns();
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    {
        std::lock_guard lock(shard.mu);
        if (shard.free_slots.empty()) {
            shard.slots.emplace_back();
            index = static_cast<std::uint32_t>(shard.slots.size() - 1);
        } else {
            index = shard.free_slots.back();
            shard.free_slots.pop_back();
        }
        Shard::Slot& s = shard.slots[index];
        s.generation = (s.generation + 1) & kGenerationMask;
        if (s.generation == 0) {
            s.generation = 1;
        }
        generation = s.generation;
        s.live = true;
        s.stuck = false;
        s.orphaned = false;
        s.kind = info.kind;
        s.amount = info.amount;
        s.acquired_ns = now;
        s.sequence = shard.acquired;
        s.owner = owner;
        s.observer = nullptr;
        s.counted = counted && owner != nullptr;
        s.file = site.file_name();
        s.line = site.line();
        s.name.assign(info.name);
        s.orphan_path.clear();
        auto& count = shard.live[static_cast<std::size_t>(info.kind)];
        ++count.entries;
        count.amount += info.amount;
        ++shard.acquired;
        if (s.counted) {
            owner->live_entries_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    return LedgerId{make_id(generation, shard_index, index)};
}

bool Ledger::release(LedgerId id, bool notify_orphan) noexcept {
    if (!id) {
        return false;
    }
    const auto [shard_index, index, generation] = decode(id);
    if (shard_index >= kShards) {
        return false;
    }
    Shard& shard = shards_[shard_index];
    OrphanObserver* observer = nullptr;
    LedgerEntry orphan;
    {
        std::lock_guard lock(shard.mu);
        if (index >= shard.slots.size()) {
            return false;
        }
        Shard::Slot& s = shard.slots[index];
        if (!s.live || s.generation != generation) {
            return false;
        }
        if (s.orphaned && s.observer != nullptr && notify_orphan) {
            try {
                orphan = shard.copy(shard_index, index, detail::coarse_now_ns());
                observer = s.observer;
            } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory: no late report
            }
        }
        s.live = false;
        s.observer = nullptr;
        auto& count = shard.live[static_cast<std::size_t>(s.kind)];
        --count.entries;
        count.amount -= s.amount;
        ++shard.released;
        // Last touch of the owner: once its count reads zero it may be destroyed.
        if (s.owner != nullptr && s.counted) {
            s.owner->live_entries_.fetch_sub(1, std::memory_order_acq_rel);
        }
        s.owner = nullptr;
        shard.free_slots.push_back(index);
    }
    if (observer != nullptr) {
        observer->orphan_released(orphan);
    }
    return true;
}

void Ledger::mark_stuck(LedgerId id) noexcept {
    const auto [shard_index, index, generation] = decode(id);
    if (!id || shard_index >= kShards) {
        return;
    }
    Shard& shard = shards_[shard_index];
    std::lock_guard lock(shard.mu);
    if (index < shard.slots.size() && shard.slots[index].live &&
        shard.slots[index].generation == generation) {
        Shard::Slot& s = shard.slots[index];
        s.stuck = true;
        if (s.owner != nullptr && !s.counted) {  // it may now outlive its owner: count it
            s.counted = true;
            s.owner->live_entries_.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

std::vector<LedgerEntry> Ledger::orphan(LedgerOwner& owner, OrphanObserver* observer) {
    std::vector<std::pair<OrderKey, LedgerEntry>> found;
    if (owner.live_entries() == 0) {
        return {};
    }
    const std::string path = owner.owner_path();
    const std::int64_t now = detail::coarse_now_ns();
    for (std::size_t i = 0; i < kShards; ++i) {
        Shard& shard = shards_[i];
        std::lock_guard lock(shard.mu);
        for (std::uint32_t j = 0; j < shard.slots.size(); ++j) {
            Shard::Slot& s = shard.slots[j];
            if (!s.live || s.owner != &owner) {
                continue;
            }
            found.emplace_back(OrderKey{s.acquired_ns, s.sequence}, shard.copy(i, j, now));
            found.back().second.orphaned = true;
            s.orphaned = true;
            s.orphan_path = path;
            s.owner = nullptr;
            s.observer = observer;
            if (s.counted) {
                owner.live_entries_.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
    }
    std::sort(found.begin(), found.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<LedgerEntry> out;
    out.reserve(found.size());
    for (auto& f : found) {
        out.push_back(std::move(f.second));
    }
    return out;
}

void Ledger::forget_observer(const OrphanObserver* observer) noexcept {
    for (std::size_t i = 0; i < kShards; ++i) {
        std::lock_guard lock(shards_[i].mu);
        for (Shard::Slot& s : shards_[i].slots) {
            if (s.observer == observer) {
                s.observer = nullptr;
            }
        }
    }
}

LedgerSnapshot Ledger::snapshot() const {
    LedgerSnapshot snap;
    std::vector<std::pair<OrderKey, LedgerEntry>> entries;
    const std::int64_t now = detail::coarse_now_ns();
    for (std::size_t i = 0; i < kShards; ++i) {
        const Shard& shard = shards_[i];
        std::lock_guard lock(shard.mu);
        for (std::size_t k = 0; k < kResourceKindCount; ++k) {
            snap.by_kind[k].entries += shard.live[k].entries;
            snap.by_kind[k].amount += shard.live[k].amount;
        }
        snap.acquired_total += shard.acquired;
        snap.released_total += shard.released;
        for (std::uint32_t j = 0; j < shard.slots.size(); ++j) {
            if (shard.slots[j].live) {
                entries.emplace_back(OrderKey{shard.slots[j].acquired_ns, shard.slots[j].sequence},
                                     shard.copy(i, j, now));
            }
        }
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::map<std::pair<std::string, ResourceKind>, KindCount> by_owner;
    snap.entries.reserve(entries.size());
    for (auto& [seq, e] : entries) {
        auto& c = by_owner[{e.owner_path, e.kind}];
        ++c.entries;
        c.amount += e.amount;
        snap.entries.push_back(std::move(e));
    }
    for (auto& [key, count] : by_owner) {
        snap.by_owner.push_back({key.first, key.second, count});
    }
    return snap;
}

KindCount Ledger::live(ResourceKind kind) const noexcept {
    KindCount total;
    for (std::size_t i = 0; i < kShards; ++i) {
        std::lock_guard lock(shards_[i].mu);
        total.entries += shards_[i].live[static_cast<std::size_t>(kind)].entries;
        total.amount += shards_[i].live[static_cast<std::size_t>(kind)].amount;
    }
    return total;
}

std::uint64_t Ledger::live_total() const noexcept {
    std::uint64_t acquired = 0;
    std::uint64_t released = 0;
    for (std::size_t i = 0; i < kShards; ++i) {
        std::lock_guard lock(shards_[i].mu);
        acquired += shards_[i].acquired;
        released += shards_[i].released;
    }
    return acquired - released;
}

}  // namespace scopeflow
