#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>

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

namespace {

// splitmix64's finalizer: a good 64-bit mixer, tiny and portable.
std::uint64_t mix(std::uint64_t z) noexcept {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
}

// FNV-1a: a stable hash of the point name (std::hash may differ between builds).
std::uint64_t name_hash(std::string_view name) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : name) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

// The draw in [0, 1) for one hit: a function of the point's stream, the hit's ordinal there and
// the rule (so two probability rules on one point draw independently).
double uniform_at(std::uint64_t stream, std::uint64_t ordinal, std::size_t rule) noexcept {
    const std::uint64_t z = mix(mix(stream ^ mix(ordinal)) + rule);
    return static_cast<double>(z >> 11U) * 0x1.0p-53;
}

}  // namespace

FaultInjector::FaultInjector(std::uint64_t seed)
    : seed_(seed) {}

FaultInjector::~FaultInjector() = default;

void FaultInjector::arm(FaultRule rule) {
    std::lock_guard lock(mu_);
    rules_.push_back({std::move(rule), false});
}

void FaultInjector::disarm_all() {
    std::lock_guard lock(mu_);
    rules_.clear();
}

void FaultInjector::hit(FaultPhase phase, std::string_view point, const std::stop_token& stop) {
    const FaultRule* fired = nullptr;
    std::uint64_t ordinal = 0;
    FaultRule rule_copy;
    {
        std::lock_guard lock(mu_);
        const auto p = static_cast<std::size_t>(phase);
        auto& points = points_[p];
        auto it = points.find(point);
        if (it == points.end()) {
            const std::uint64_t stream = mix(mix(seed_ ^ mix(p)) ^ name_hash(point));
            it = points.emplace(std::string(point), PointState{0, stream}).first;
        }
        PointState& state = it->second;
        ordinal = ++state.hits;
        const std::uint64_t phase_ordinal = ++phase_hits_[p];
        if (recording_) {
            trace_.push_back({phase, std::string(point), ordinal, phase_ordinal});
        }
        for (std::size_t i = 0; i < rules_.size(); ++i) {
            Armed& armed = rules_[i];
            const FaultRule& r = armed.rule;
            const bool wildcard = r.point == "*";
            if (armed.spent || r.phase != phase || (!wildcard && r.point != point)) {
                continue;
            }
            bool fire = false;
            if (r.nth != 0) {
                fire = (wildcard ? phase_ordinal : ordinal) == r.nth;
                armed.spent = fire;
            } else if (r.probability > 0.0) {
                fire = uniform_at(state.stream, ordinal, i) < r.probability;
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
