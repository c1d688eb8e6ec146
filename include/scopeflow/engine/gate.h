// Gate: admits work until closed, then lets in-flight work drain (Seastar's gate).
//
// Graceful shutdown goes through a gate: close() stops admitting, wait_idle() waits until every
// Pass has been returned. A Pass is an RAII token held for the duration of one unit of work.
//
//   scopeflow::Gate gate;
//   if (auto pass = gate.try_enter()) { handle(batch); }   // refused once closing
//   ...
//   gate.close();
//   gate.wait_idle(std::chrono::steady_clock::now() + 10s);
//
// Thread safety: every member may be called concurrently. A Pass must not outlive its Gate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>

namespace scopeflow {

class Gate {
public:
    class [[nodiscard]] Pass {
    public:
        Pass(Pass&& other) noexcept
            : gate_(std::exchange(other.gate_, nullptr)) {}
        Pass& operator=(Pass&&) = delete;
        Pass(const Pass&) = delete;
        Pass& operator=(const Pass&) = delete;
        ~Pass() {
            if (gate_ != nullptr) {
                gate_->leave();
            }
        }

    private:
        friend class Gate;
        explicit Pass(Gate* gate) noexcept
            : gate_(gate) {}
        Gate* gate_;
    };

    Gate() = default;
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;

    // A pass, or nullopt once close() was called.
    std::optional<Pass> try_enter() {
        std::lock_guard lock(mu_);
        if (closed_) {
            return std::nullopt;
        }
        ++in_flight_;
        return Pass(this);
    }

    // Stops admitting. Idempotent.
    void close() {
        std::lock_guard lock(mu_);
        closed_ = true;
        idle_.notify_all();
    }

    // Waits until closed and nothing is in flight, or the deadline. True when idle.
    bool wait_idle(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(mu_);
        return idle_.wait_until(lock, deadline, [this] { return closed_ && in_flight_ == 0; });
    }

    [[nodiscard]] std::size_t in_flight() const {
        std::lock_guard lock(mu_);
        return in_flight_;
    }
    [[nodiscard]] bool closed() const {
        std::lock_guard lock(mu_);
        return closed_;
    }

private:
    void leave() noexcept {
        std::lock_guard lock(mu_);
        if (--in_flight_ == 0) {
            idle_.notify_all();
        }
    }

    mutable std::mutex mu_;
    std::condition_variable idle_;
    std::size_t in_flight_ = 0;  // guarded by mu_
    bool closed_ = false;        // guarded by mu_
};

}  // namespace scopeflow
