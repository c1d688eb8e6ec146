// Test helpers for the engine: a counting source and a few stage types with observable effects.
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include <scopeflow/event/event.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/engine/source.h>
#include <scopeflow/engine/stage.h>

#include "unit/test_support.h"

namespace scopeflow::testing {

// Produces `total` events {"n": i} (or endless with total = max); records every ack and nack.
class CountingSource final : public Source {
public:
    explicit CountingSource(std::uint64_t total = std::numeric_limits<std::uint64_t>::max())
        : total_(total) {}

    std::size_t read(std::span<Event> out, const std::stop_token& stop) override {
        if (stop.stop_requested()) {
            return 0;
        }
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        while (n < out.size() && next_ < total_) {
            Event& e = out[n++];
            e.clear();
            e.meta().sequence = next_;
            e.set("n", Value(static_cast<std::int64_t>(next_)));
            ++next_;
        }
        return n;
    }
    void ack(std::uint64_t sequence) override { settle(sequence, true); }
    void nack(std::uint64_t sequence, std::string_view reason) override {
        {
            std::lock_guard lock(mu_);
            last_nack_reason_ = std::string(reason);
        }
        settle(sequence, false);
    }
    void commit() override { committed_ = true; }

    std::uint64_t produced() const {
        std::lock_guard lock(mu_);
        return next_;
    }
    std::uint64_t acked() const {
        std::lock_guard lock(mu_);
        return acked_;
    }
    std::uint64_t nacked() const {
        std::lock_guard lock(mu_);
        return nacked_;
    }
    std::uint64_t settled_twice() const {
        std::lock_guard lock(mu_);
        return twice_;
    }
    std::string last_nack_reason() const {
        std::lock_guard lock(mu_);
        return last_nack_reason_;
    }
    bool committed() const { return committed_; }

private:
    void settle(std::uint64_t sequence, bool ok) {
        std::lock_guard lock(mu_);
        if (!settled_.insert(sequence).second) {
            ++twice_;
        }
        ++(ok ? acked_ : nacked_);
    }

    const std::uint64_t total_;
    mutable std::mutex mu_;
    std::uint64_t next_ = 0;           // guarded by mu_
    std::uint64_t acked_ = 0;          // guarded by mu_
    std::uint64_t nacked_ = 0;         // guarded by mu_
    std::uint64_t twice_ = 0;          // guarded by mu_
    std::set<std::uint64_t> settled_;  // guarded by mu_
    std::string last_nack_reason_;     // guarded by mu_
    std::atomic<bool> committed_{false};
};

// A stage built from lambdas, for tests.
class LambdaStage final : public Stage {
public:
    using Fn = std::function<ActionId(Event&, TaskContext&)>;
    explicit LambdaStage(Fn fn, std::string type = "lambda")
        : Stage(std::move(type)),
          fn_(std::move(fn)) {}

protected:
    ActionId on_process(Event& e, TaskContext& t) override { return fn_(e, t); }

private:
    Fn fn_;
};

}  // namespace scopeflow::testing
