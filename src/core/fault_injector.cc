#include <utility>

#include <scopeflow/error.h>
#include <scopeflow/fault_injector.h>

namespace scopeflow {

std::string_view to_string(FaultPhase p) noexcept {
    switch (p) {
        case FaultPhase::acquire:
            return "acquire";
        case FaultPhase::use:
            return "use";
        case FaultPhase::release:
            return "release";
    }
    return "unknown";
}

FaultInjector::FaultInjector(std::uint64_t seed)
    : rng_state_(seed) {}

FaultInjector::~FaultInjector() = default;

void FaultInjector::arm(FaultRule rule) {
    std::lock_guard lock(mu_);
    rules_.push_back({std::move(rule), false});
}

void FaultInjector::disarm_all() {
    std::lock_guard lock(mu_);
    rules_.clear();
}

double FaultInjector::next_uniform() {
    // splitmix64: tiny, seedable, good enough for choosing faults reproducibly.
    std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    z ^= z >> 31U;
    return static_cast<double>(z >> 11U) * 0x1.0p-53;
}

void FaultInjector::hit(FaultPhase phase, std::string_view point, const std::stop_token& stop) {
    const FaultRule* fired = nullptr;
    std::uint64_t ordinal = 0;
    FaultRule rule_copy;
    {
        std::lock_guard lock(mu_);
        auto& counts = counts_[static_cast<std::size_t>(phase)];
        auto it = counts.find(point);
        if (it == counts.end()) {
            it = counts.emplace(std::string(point), 0).first;
        }
        ordinal = ++it->second;
        if (recording_) {
            trace_.push_back({phase, std::string(point), ordinal});
        }
        for (auto& armed : rules_) {
            const FaultRule& r = armed.rule;
            if (armed.spent || r.phase != phase || (r.point != "*" && r.point != point)) {
                continue;
            }
            bool fire = false;
            if (r.nth != 0) {
                // For "*" rules the ordinal is per point, so nth counts hits of any one point.
                fire = ordinal == r.nth;
                armed.spent = fire && r.point != "*";
            } else if (r.probability > 0.0) {
                fire = next_uniform() < r.probability;
            }
            if (fire) {
                fired = &r;
                rule_copy = r;
                ++fired_;
                break;
            }
        }
    }
    if (fired == nullptr) {
        return;
    }
    const std::string where =
        std::string(to_string(phase)) + " '" + std::string(point) + "' #" + std::to_string(ordinal);
    if (rule_copy.action == FaultAction::throw_error) {
        throw InjectedFault("injected fault at " + where);
    }
    // Hang: block until released, stopped, or the rule's bound passes.
    // The callback is registered before taking mu_: it runs inline if stop is already requested.
    std::stop_callback wake(stop, [this] {
        std::lock_guard inner(mu_);
        hang_cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + rule_copy.hang_for;
    hang_cv_.wait_until(lock, deadline, [&] { return hangs_released_ || stop.stop_requested(); });
    if (stop.stop_requested() && !hangs_released_) {
        throw CancelledError("injected hang at " + where + " cancelled");
    }
}

void FaultInjector::release_hangs() {
    std::lock_guard lock(mu_);
    hangs_released_ = true;
    hang_cv_.notify_all();
}

void FaultInjector::set_recording(bool on) {
    std::lock_guard lock(mu_);
    recording_ = on;
}

std::vector<FaultHit> FaultInjector::trace() const {
    std::lock_guard lock(mu_);
    return trace_;
}

std::uint64_t FaultInjector::fired() const {
    std::lock_guard lock(mu_);
    return fired_;
}

std::vector<FaultHit> FaultInjector::record(const std::function<void(FaultInjector&)>& scenario) {
    FaultInjector injector;
    injector.set_recording(true);
    scenario(injector);
    return injector.trace();
}

}  // namespace scopeflow
