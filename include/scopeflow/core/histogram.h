// Histogram: a lock-free, fixed-bucket latency histogram.
//
// Buckets are log-linear over nanoseconds: 8 sub-buckets per power of two, from 1 ns to ~2^40 ns
// (18 minutes); values beyond land in the last bucket. Relative error of a quantile is under
// 1/8 (12.5%). record() is a few relaxed atomic increments; snapshots read without locking, so a
// snapshot taken during recording may be off by the records in flight.
//
//   scopeflow::Histogram latency;
//   latency.record(std::chrono::microseconds(250));
//   auto s = latency.snapshot();
//   s.quantile(0.99);   // in nanoseconds
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace scopeflow {

class Histogram {
public:
    static constexpr int kSubBits = 3;  // 8 sub-buckets per power of two
    static constexpr int kMaxExponent = 40;
    static constexpr std::size_t kBuckets = (kMaxExponent + 1) << kSubBits;

    struct Snapshot {
        std::array<std::uint64_t, kBuckets> counts{};
        std::uint64_t count = 0;
        std::uint64_t sum_ns = 0;
        std::uint64_t max_ns = 0;

        // Upper bound of the bucket holding quantile q (0..1), in ns; 0 when empty.
        [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
        [[nodiscard]] double mean_ns() const noexcept {
            return count == 0 ? 0.0 : static_cast<double>(sum_ns) / static_cast<double>(count);
        }
    };

    Histogram() = default;
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    void record(std::chrono::nanoseconds d) noexcept;
    [[nodiscard]] Snapshot snapshot() const noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept {
        return count_.load(std::memory_order_relaxed);
    }

    // Bucket arithmetic, exposed for exporters (Prometheus "le" bounds) and tests.
    [[nodiscard]] static std::size_t bucket_of(std::uint64_t ns) noexcept;
    [[nodiscard]] static std::uint64_t bucket_upper_bound(std::size_t bucket) noexcept;

private:
    std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
    std::atomic<std::uint64_t> max_ns_{0};
};

}  // namespace scopeflow
