// Stage: one pluggable step of a pipeline, with its lifecycle bound to scopes.
//
//   open(stage scope)          once per pipeline: what the stage opens once (files, pools)
//   open_worker(worker scope)  once per worker thread: per-worker handles
//   process(event, task)       per event; per-event resources go into task.scope(), which is
//                              closed when the event completes, on every path
//   end_batch(worker)          after each batch, before its events are acked: flush
//   finish(stage scope)        flush and commit, after the last event; skipped on failure
//   release                    through the scopes: worker scopes, then the stage scope
//
// "Open once, use many times, close once." The public lifecycle calls are non-virtual and
// bracket the protected hooks (spdlog's base_sink), so the engine's bookkeeping cannot be
// forgotten by an implementation.
//
//   class Upper final : public scopeflow::Stage {
//   public:
//       Upper() : Stage("upper") {}
//   protected:
//       scopeflow::ActionId on_process(scopeflow::Event& e, scopeflow::TaskContext&) override {
//           ...
//           return scopeflow::kActionDefault;
//       }
//   };
//
// process() returns an action: kActionDefault, kActionDrop (the event ends here, successfully),
// kActionError, or one the stage declared before open with declare_action("high_value"). The
// graph routes each action to zero or more next stages; an action with no route ends the event
// there (a sink). An exception from process() is the error action.
//
// Thread safety: open/open_worker/finish are called by one thread at a time; process() is
// called concurrently from every worker thread, each with its own worker index. Per-worker
// state belongs in a slot indexed by TaskContext::worker_index() (sized in on_open).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/scope.h>

namespace scopeflow {

class Event;

using ActionId = std::uint16_t;
inline constexpr ActionId kActionDefault = 0;
inline constexpr ActionId kActionError = 1;
inline constexpr ActionId kActionDrop = 0xFFFF;

// Per-event context handed to Stage::process().
class TaskContext {
public:
    TaskContext(Scope& worker_root, std::size_t worker_index, std::stop_token stop);
    TaskContext(const TaskContext&) = delete;
    TaskContext& operator=(const TaskContext&) = delete;
    ~TaskContext();

    // The event's task scope, created on first use (no cost for stages that never ask) and
    // closed when the event completes, however it completes.
    Scope& scope();
    [[nodiscard]] std::size_t worker_index() const noexcept { return worker_index_; }
    [[nodiscard]] const std::stop_token& stop_token() const noexcept { return stop_; }

    // Engine side: ends the current event's task scope (failures go to the monitor).
    void end_task() noexcept;
    // Engine side: names the task scope after the event ("event-<sequence>").
    void begin_task(std::uint64_t sequence) noexcept { sequence_ = sequence; }

private:
    Scope& worker_root_;
    std::size_t worker_index_;
    std::stop_token stop_;
    std::uint64_t sequence_ = 0;
    std::optional<Scope> task_;
};

class Stage {
public:
    explicit Stage(std::string type);
    Stage(const Stage&) = delete;
    Stage& operator=(const Stage&) = delete;
    virtual ~Stage();

    // Declares a named action before open(); returns its id. "default" and "error" exist.
    ActionId declare_action(std::string_view name);
    [[nodiscard]] ActionId action_id(std::string_view name) const;  // kActionDrop if unknown
    [[nodiscard]] const std::vector<std::string>& actions() const noexcept { return actions_; }
    [[nodiscard]] const std::string& type() const noexcept { return type_; }

    // --- lifecycle, driven by the engine ---
    void open(Scope& stage_scope, std::size_t workers);
    void open_worker(Scope& worker_scope, std::size_t worker_index);
    ActionId process(Event& event, TaskContext& task) { return on_process(event, task); }
    // After each batch of a worker, before its events are acked: make what the batch wrote
    // durable (per the stage's policy). A throw nacks the whole batch.
    void end_batch(std::size_t worker_index) { on_end_batch(worker_index); }
    void finish(Scope& stage_scope);

protected:
    virtual void on_open(Scope& stage_scope, std::size_t workers);
    virtual void on_open_worker(Scope& worker_scope, std::size_t worker_index);
    virtual ActionId on_process(Event& event, TaskContext& task) = 0;
    virtual void on_end_batch(std::size_t worker_index);
    virtual void on_finish(Scope& stage_scope);

private:
    std::string type_;
    std::vector<std::string> actions_{"default", "error"};
    bool opened_ = false;
};

}  // namespace scopeflow
