// TestSource: the one Source the tests use. It hands out events from a list, or generates
// {"n": i} (or what a generator makes) up to a total, and records every ack and nack.
//
//   testing::TestSource source(1000);                       // {"n": 0} ... {"n": 999}
//   testing::TestSource listed(std::vector<Event>{...});    // these events, in order
//   testing::TestSource rows(100, [](Event& e, std::uint64_t i) { e.set("k", ...); });
//   source.on_ack([&](std::uint64_t seq) { ... });          // called before the ack is counted
//   Pipeline p("p", std::move(graph), source, {...});
//   p.run(scope);
//   EXPECT_EQ(source.acked(), 1000U);
//
// Sequences are 0, 1, 2, ... in read order. read() returns nothing once stop is requested.
// Thread safety: read/ack/nack/commit and the accessors may be called concurrently; on_ack()
// before the source is shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/engine/source.h>
#include <scopeflow/event/event.h>

namespace scopeflow::testing {

class TestSource final : public Source {
public:
    // Fills event `e` for sequence `i` (e arrives cleared).
    using Generator = std::function<void(Event& e, std::uint64_t i)>;
    static constexpr std::uint64_t kEndless = std::numeric_limits<std::uint64_t>::max();

    // `total` events {"n": i}; endless by default.
    explicit TestSource(std::uint64_t total = kEndless)
        : TestSource(total, [](Event& e, std::uint64_t i) {
              e.set("n", Value(static_cast<std::int64_t>(i)));
          }) {}
    // `total` events made by `make`.
    TestSource(std::uint64_t total, Generator make)
        : total_(total),
          make_(std::move(make)) {}
    // These events, in order.
    explicit TestSource(std::vector<Event> events)
        : total_(events.size()),
          events_(std::move(events)) {}

    // Called with each sequence before its ack is recorded (not under the source's lock).
    void on_ack(std::function<void(std::uint64_t)> fn) { on_ack_ = std::move(fn); }

    std::size_t read(std::span<Event> out, const std::stop_token& stop) override {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        while (!stop.stop_requested() && n < out.size() && next_ < total_) {
            Event& e = out[n++];
            if (make_) {
                e.clear();
                make_(e, next_);
            } else {
                e = events_[next_];
            }
            e.meta().sequence = next_;
            ++next_;
        }
        return n;
    }
    void ack(std::uint64_t sequence) override {
        if (on_ack_) {
            on_ack_(sequence);
        }
        settle(sequence, true);
    }
    void nack(std::uint64_t sequence, std::string_view reason) override {
        {
            std::lock_guard lock(mu_);
            last_nack_reason_ = std::string(reason);
        }
        settle(sequence, false);
    }
    void commit() override { committed_ = true; }

    [[nodiscard]] std::uint64_t produced() const {
        std::lock_guard lock(mu_);
        return next_;
    }
    [[nodiscard]] std::uint64_t acked() const {
        std::lock_guard lock(mu_);
        return acked_;
    }
    [[nodiscard]] std::uint64_t nacked() const {
        std::lock_guard lock(mu_);
        return nacked_;
    }
    // Sequences acked or nacked more than once (the engine must settle each exactly once).
    [[nodiscard]] std::uint64_t settled_twice() const {
        std::lock_guard lock(mu_);
        return twice_;
    }
    [[nodiscard]] std::string last_nack_reason() const {
        std::lock_guard lock(mu_);
        return last_nack_reason_;
    }
    [[nodiscard]] bool committed() const { return committed_; }

private:
    void settle(std::uint64_t sequence, bool ok) {
        std::lock_guard lock(mu_);
        if (!settled_.insert(sequence).second) {
            ++twice_;
        }
        ++(ok ? acked_ : nacked_);
    }

    const std::uint64_t total_;
    const Generator make_;             // empty: events_ is the list
    const std::vector<Event> events_;  // read-only after construction
    std::function<void(std::uint64_t)> on_ack_;
    mutable std::mutex mu_;
    std::uint64_t next_ = 0;           // guarded by mu_
    std::uint64_t acked_ = 0;          // guarded by mu_
    std::uint64_t nacked_ = 0;         // guarded by mu_
    std::uint64_t twice_ = 0;          // guarded by mu_
    std::set<std::uint64_t> settled_;  // guarded by mu_
    std::string last_nack_reason_;     // guarded by mu_
    std::atomic<bool> committed_{false};
};

}  // namespace scopeflow::testing
