// FaultInjector: makes the k-th acquisition, use or release at a named point throw or hang.
//
// Scopes call hit() at every acquisition (adopt/open/track) and release, with the resource's
// name as the point; code calls Scope::fault_point("query") before a use. Pools add their own
// points (pool.h): "pool.<name>.connect" and "pool.<name>.validate" (phase use) and
// "pool.<name>.close" (phase release). Rules select hits by phase, point name ("*" for any) and
// ordinal, or by a seeded probability for soak runs. Tests walk every point of a scenario:
//
//   auto hits = scopeflow::FaultInjector::record([](FaultInjector& f) { scenario(f); });
//   for (const auto& h : hits) {
//       FaultInjector f;
//       f.arm({.phase = h.phase, .point = h.point, .nth = h.ordinal});
//       EXPECT_ANY_THROW(scenario(f));
//       EXPECT_EQ(ledger.live_total(), 0);
//   }
//
// Counting: a rule naming a point with nth = k fires once, at the k-th hit of that phase and
// point. A "*" rule with nth = k fires once, at the k-th hit of that phase over all points
// (FaultHit::phase_ordinal). Ordinals count from the injector's creation.
// Randomness: each (phase, point) has its own stream derived from (seed, phase, point name), and
// the draw for a hit depends only on those and the hit's ordinal at that point. So with one
// seed a run injects the same failures whenever each point sees its hits in the same order,
// however threads interleave different points.
//
// Thread safety: every member is safe to call concurrently. Hangs block outside the lock.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace scopeflow {

enum class FaultPhase : unsigned char { acquire, use, release };
enum class FaultAction : unsigned char { throw_error, hang };

[[nodiscard]] std::string_view to_string(FaultPhase p) noexcept;

struct FaultRule {
    FaultPhase phase = FaultPhase::acquire;
    std::string point = "*";  // point name, or "*" for every point
    // Fire once, on exactly the nth hit (1-based) of the point, or for "*" of the phase over all
    // points; 0: use probability.
    std::uint64_t nth = 0;
    double probability = 0.0;  // with nth == 0: chance per hit, from the point's seeded stream
    FaultAction action = FaultAction::throw_error;  // what firing does
    std::chrono::milliseconds hang_for{3'600'000};  // hang: upper bound on the block
};

// One hit of an instrumented point, as recorded.
struct FaultHit {
    FaultPhase phase = FaultPhase::acquire;
    std::string point;
    std::uint64_t ordinal = 0;        // k: this was the k-th hit of (phase, point)
    std::uint64_t phase_ordinal = 0;  // this was the n-th hit of the phase, any point ("*" rules)
};

class FaultInjector {
public:
    explicit FaultInjector(std::uint64_t seed = 0x5c0bef10u);
    FaultInjector(const FaultInjector&) = delete;
    FaultInjector& operator=(const FaultInjector&) = delete;
    ~FaultInjector();

    void arm(FaultRule rule);
    void disarm_all();

    // Called at an instrumented point. Throws InjectedFault or blocks (hang) when a rule fires.
    // A hang ends after rule.hang_for, on release_hangs(), or when `stop` is requested (then
    // CancelledError is thrown). Releases pass no stop token: a cleanup cannot be cancelled.
    void hit(FaultPhase phase, std::string_view point, const std::stop_token& stop = {});

    // Wakes every current and future hang (tests call it to let abandoned cleanups finish).
    void release_hangs();

    void set_recording(bool on);
    [[nodiscard]] std::vector<FaultHit> trace() const;  // every hit while recording, in order
    [[nodiscard]] std::uint64_t fired() const;          // how many rules fired

    // Runs `scenario` once with a recording injector and no rules; returns every hit it made.
    static std::vector<FaultHit> record(const std::function<void(FaultInjector&)>& scenario);

private:
    struct Armed {
        FaultRule rule;
        bool spent = false;
    };
    struct PointState {
        std::uint64_t hits = 0;  // ordinal of the last hit
        std::uint64_t stream;    // the point's random stream, from (seed, phase, name)
    };

    const std::uint64_t seed_;
    mutable std::mutex mu_;
    std::condition_variable hang_cv_;
    std::vector<Armed> rules_;  // guarded by mu_
    std::array<std::map<std::string, PointState, std::less<>>, 3>
        points_;                                 // per phase; guarded by mu_
    std::array<std::uint64_t, 3> phase_hits_{};  // per phase, all points; guarded by mu_
    bool recording_ = false;                     // guarded by mu_
    std::vector<FaultHit> trace_;                // guarded by mu_
    std::uint64_t fired_ = 0;                    // guarded by mu_
    bool hangs_released_ = false;                // guarded by mu_
};

}  // namespace scopeflow
