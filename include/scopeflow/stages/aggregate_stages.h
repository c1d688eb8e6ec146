// Aggregation stages.
//
// CounterStage: counts events per value of a key field (across all workers) and writes the
// running count into the event: {"user":"u-1"} -> {"user":"u-1","count":3}.
//
// TumblingWindowStage: groups events into fixed, non-overlapping event-time windows
// ([start, start + size) by an integer millisecond timestamp field), per key, and emits one
// aggregate per key when a window closes, through the "window" action:
//   {"window_start":1700000000000,"window_end":1700000060000,"key":"u-1","count":12,"sum":340.5}
// A window closes when an event of a later window arrives, or at the end of the input (flush).
// Inputs are consumed (dropped from the graph) and their acks are held until their window's
// aggregate is out, so a crash replays them: at-least-once for aggregates too. On a stop the
// open window's inputs are nacked (read again after the restart). Events older than the open
// window are "late": they take the "late" action (no route: they end there).
//
//   g.add_stage("per_minute", std::make_unique<TumblingWindowStage>(TumblingWindowOptions{
//       .time_field = "ts", .size = 60s, .key_field = "user", .sum_field = "price"}));
//   g.route("per_minute", "window", "sink");
//
// Thread safety: both keep their state under one mutex; workers share it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct CounterOptions {
    std::string key_field;              // count per value of this field (missing: "")
    std::string count_field = "count";  // where the running count goes
};

class CounterStage final : public Stage {
public:
    explicit CounterStage(CounterOptions options);
    [[nodiscard]] std::uint64_t count(const std::string& key) const;

protected:
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const CounterOptions options_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::uint64_t> counts_;  // guarded by mu_
};

struct TumblingWindowOptions {
    std::string time_field;                  // integer epoch milliseconds (required)
    std::chrono::milliseconds size{60'000};  // window length
    std::string key_field;                   // group by this field (empty: one group)
    std::string sum_field;                   // also sum this numeric field (optional)
};

class TumblingWindowStage final : public Stage {
public:
    explicit TumblingWindowStage(TumblingWindowOptions options);
    [[nodiscard]] std::uint64_t windows_emitted() const;
    [[nodiscard]] std::uint64_t late_events() const;

protected:
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_flush(TaskContext& task) override;
    void on_finish(Scope& stage_scope) override;

private:
    struct Group {
        std::uint64_t count = 0;
        double sum = 0.0;
    };
    // Emits the open window's aggregates and hands back its holds; requires mu_.
    std::vector<AckHold> close_window(TaskContext& task);

    const TumblingWindowOptions options_;
    const ActionId window_action_;
    const ActionId late_action_;
    mutable std::mutex mu_;
    bool open_ = false;                    // guarded by mu_
    std::int64_t start_ = 0;               // guarded by mu_
    std::map<std::string, Group> groups_;  // guarded by mu_ (ordered: stable output)
    std::vector<AckHold> holds_;           // guarded by mu_
    std::uint64_t emitted_ = 0;            // guarded by mu_
    std::uint64_t late_ = 0;               // guarded by mu_
};

}  // namespace scopeflow
