// NodeStage: the seed's node style (prep -> exec -> post) as a Stage, with retries.
//
//   prep(event, task)            reads what exec needs from the event (and the task scope)
//   exec(prep)                   the work: the only part that is retried
//   post(event, prep, result)    writes the result back and returns the route (an action)
//   fallback(prep, error)        when exec failed for good; the default rethrows, which takes
//                                the stage's error route (or the dead-letter stage)
//
// Retries use exponential backoff with jitter, wait on the task's stop token (a shutdown does
// not sit out a backoff), and by default retry only TransientError: anything else is a bug or
// bad input, and repeating it helps nobody. A stop during the retries (a failed attempt after
// it, or the backoff cut short) throws CancelledError, which the engine nacks: the event did
// not fail, it is read again after a restart.
//
//   struct Lookup final : scopeflow::NodeStage<std::string, std::string> {
//       Lookup() : NodeStage("lookup", {.max_attempts = 4}) {}
//       std::string prep(Event& e, TaskContext&) override { return ...; }
//       std::string exec(std::string& key) override { return db.get(key); }
//       ActionId post(Event& e, std::string&, std::string& v) override { ...; return
//       kActionDefault; }
//   };
//
// Thread safety: as Stage; prep/exec/post/fallback run concurrently on the worker threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <stop_token>
#include <string>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct RetryPolicy {
    int max_attempts = 3;                           // exec attempts in all (1: no retry)
    std::chrono::milliseconds initial_backoff{10};  // wait before the second attempt
    double multiplier = 2.0;                        // backoff growth per attempt
    std::chrono::milliseconds max_backoff{2000};    // cap on one wait
    double jitter = 0.2;                            // +/- this fraction, so retries spread
    bool transient_only = true;                     // retry only TransientError
    std::uint64_t seed = 0x6a09e667f3bcc908ULL;     // jitter sequence, for reproducible runs

    // The wait before attempt `attempt` (2-based: the first retry), jitter applied with `unit`
    // in [0, 1).
    [[nodiscard]] std::chrono::nanoseconds backoff(int attempt, double unit) const {
        double base = static_cast<double>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(initial_backoff).count());
        for (int i = 2; i < attempt; ++i) {
            base *= multiplier;
        }
        const auto cap = static_cast<double>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(max_backoff).count());
        base = std::min(base, cap);
        const double factor = 1.0 + jitter * (2.0 * unit - 1.0);
        return std::chrono::nanoseconds(static_cast<std::int64_t>(base * factor));
    }
};

template <typename Prep, typename Result>
class NodeStage : public Stage {
public:
    NodeStage(std::string type, RetryPolicy policy = {})
        : Stage(std::move(type)),
          policy_(policy),
          rng_(policy.seed) {}

    [[nodiscard]] const RetryPolicy& retry_policy() const noexcept { return policy_; }
    // Retries done so far (attempts beyond the first), across all workers.
    [[nodiscard]] std::uint64_t retries() const noexcept {
        return retries_.load(std::memory_order_relaxed);
    }

protected:
    virtual Prep prep(Event& event, TaskContext& task) = 0;
    virtual Result exec(Prep& prep) = 0;
    virtual ActionId post(Event& event, Prep& prep, Result& result) = 0;
    virtual Result fallback(Prep& /*prep*/, std::exception_ptr error) {
        std::rethrow_exception(error);
    }

    ActionId on_process(Event& event, TaskContext& task) final {
        Prep p = prep(event, task);
        Result r = run_exec(p, task.stop_token());
        return post(event, p, r);
    }

private:
    Result run_exec(Prep& p, const std::stop_token& stop) {
        for (int attempt = 1;; ++attempt) {
            try {
                return exec(p);
            } catch (...) {
                std::exception_ptr error = std::current_exception();
                if (stop.stop_requested() && retryable(error)) {
                    // A retry cut short by a stop is not a failure of the event: the engine nacks
                    // it and a later run tries again.
                    throw CancelledError("stage '" + type() +
                                         "': stopped while retrying: " + message_of(error));
                }
                if (attempt >= policy_.max_attempts || !retryable(error)) {
                    return fallback(p, error);
                }
            }
            retries_.fetch_add(1, std::memory_order_relaxed);
            if (!sleep_for(policy_.backoff(attempt + 1, next_unit()), stop)) {
                throw CancelledError("stage '" + type() + "': stopped while backing off");
            }
        }
    }

    bool retryable(const std::exception_ptr& e) const {
        if (!policy_.transient_only) {
            return true;
        }
        try {
            std::rethrow_exception(e);
        } catch (const TransientError&) {
            return true;
        } catch (...) {
            return false;
        }
    }

    double next_unit() noexcept {
        // splitmix64 over a shared counter: lock-free, reproducible for a given seed and order.
        std::uint64_t z = rng_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed) +
                          0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
        z ^= z >> 31U;
        return static_cast<double>(z >> 11U) * 0x1.0p-53;
    }

    const RetryPolicy policy_;
    std::atomic<std::uint64_t> rng_;
    std::atomic<std::uint64_t> retries_{0};
};

}  // namespace scopeflow
