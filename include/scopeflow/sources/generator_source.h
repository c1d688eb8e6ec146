// GeneratorSource: synthetic events, for demos, soak tests and benchmarks.
//
// Event i is {"n": i} plus, with `with_payload`, a realistic analytics payload:
// {"n": i, "user": "u-<i % 1000>", "type": "click"|"view"|"buy", "price": <i % 100 + 0.5>,
//  "ts": <1.7e12 + i>}. Acks and nacks are counted; nothing is persisted.
//
//   scopeflow::GeneratorSource source({.count = 1'000'000});
//
// Thread safety: as Source; reads take a lock once per batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include <scopeflow/engine/source.h>

namespace scopeflow {

struct GeneratorOptions {
    std::uint64_t count = 0;    // events to produce; 0: endless (until stopped)
    bool with_payload = false;  // add user/type/price/ts fields
};

class GeneratorSource final : public Source {
public:
    explicit GeneratorSource(GeneratorOptions options = {})
        : options_(options) {}

    std::size_t read(std::span<Event> out, const std::stop_token& stop) override;
    void ack(std::uint64_t /*sequence*/) override {
        acked_.fetch_add(1, std::memory_order_relaxed);
    }
    void ack_many(std::span<const std::uint64_t> sequences) override {
        acked_.fetch_add(sequences.size(), std::memory_order_relaxed);
    }
    void nack(std::uint64_t /*sequence*/, std::string_view /*reason*/) override {
        nacked_.fetch_add(1, std::memory_order_relaxed);
    }

    [[nodiscard]] std::uint64_t produced() const;
    [[nodiscard]] std::uint64_t acked() const noexcept { return acked_.load(); }
    [[nodiscard]] std::uint64_t nacked() const noexcept { return nacked_.load(); }

private:
    const GeneratorOptions options_;
    mutable std::mutex mu_;
    std::uint64_t next_ = 0;  // guarded by mu_
    std::atomic<std::uint64_t> acked_{0};
    std::atomic<std::uint64_t> nacked_{0};
};

}  // namespace scopeflow
