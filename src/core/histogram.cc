#include <bit>
#include <cmath>

#include <scopeflow/core/histogram.h>

namespace scopeflow {

std::size_t Histogram::bucket_of(std::uint64_t ns) noexcept {
    constexpr std::uint64_t kSub = 1U << kSubBits;
    if (ns < kSub) {
        return static_cast<std::size_t>(ns);  // exact for tiny values
    }
    const int exponent = static_cast<int>(std::bit_width(ns)) - 1;  // >= kSubBits
    if (exponent > kMaxExponent) {
        return kBuckets - 1;
    }
    const auto sub = static_cast<std::size_t>((ns >> (exponent - kSubBits)) & (kSub - 1));
    return (static_cast<std::size_t>(exponent - kSubBits + 1) << kSubBits) + sub;
}

std::uint64_t Histogram::bucket_upper_bound(std::size_t bucket) noexcept {
    constexpr std::uint64_t kSub = 1U << kSubBits;
    if (bucket < kSub) {
        return bucket;
    }
    const auto exponent = static_cast<int>(bucket >> kSubBits) + kSubBits - 1;
    const std::uint64_t sub = bucket & (kSub - 1);
    const std::uint64_t base = std::uint64_t{1} << exponent;
    return base + ((sub + 1) << (exponent - kSubBits)) - 1;
}

void Histogram::record(std::chrono::nanoseconds d) noexcept {
    const std::uint64_t ns = d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
    buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    std::uint64_t prev = max_ns_.load(std::memory_order_relaxed);
    while (ns > prev && !max_ns_.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
    }
}

Histogram::Snapshot Histogram::snapshot() const noexcept {
    Snapshot s;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        s.counts[i] = buckets_[i].load(std::memory_order_relaxed);
        s.count += s.counts[i];
    }
    s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
    s.max_ns = max_ns_.load(std::memory_order_relaxed);
    return s;
}

std::uint64_t Histogram::Snapshot::quantile(double q) const noexcept {
    if (count == 0) {
        return 0;
    }
    const double clamped = q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
    auto rank = static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(count)));
    if (rank == 0) {
        rank = 1;
    }
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts[i];
        if (seen >= rank) {
            const std::uint64_t bound = bucket_upper_bound(i);
            return bound < max_ns ? bound : max_ns;
        }
    }
    return max_ns;
}

}  // namespace scopeflow
