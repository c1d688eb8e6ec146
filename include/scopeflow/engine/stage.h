// Stage: one pluggable step of a pipeline, with its lifecycle bound to scopes.
//
//   open(stage scope)          once per pipeline: what the stage opens once (files, pools)
//   open_worker(worker scope)  once per worker thread: per-worker handles
//   process(event, task)       per event; per-event resources go into task.scope(), which is
//                              closed when the event completes, on every path
//   end_batch(batch)           after each batch, before its events are acked: flush; may fail
//                              single events of the batch (BatchContext::fail)
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
// there (a sink). An exception from process() is the error action. A stage that may return
// kActionDrop says so with declare_drops() before open: Graph::validate() rejects a cycle that no
// event can leave, and a stage that drops is a way out.
//
// Batching sinks buffer what process() accepted and write it at the end of the batch. Their
// hook is on_flush_batch(BatchContext&): a write that fails for some events (after the stage's
// own retries) fails just those with batch.fail(event, reason), and they take the normal failure
// path (the dead-letter stage, else a nack), while the rest of the batch is acked. A throw from
// the hook still nacks the whole batch. Stages with an all-or-nothing flush can keep overriding
// on_end_batch(worker_index), which the default on_flush_batch calls.
//
// Thread safety: open/open_worker/finish are called by one thread at a time; process() and
// end_batch() are called concurrently from every worker thread, each with its own worker index.
// Per-worker state belongs in a slot indexed by TaskContext::worker_index() (sized in on_open).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/event/event.h>
#include <scopeflow/core/scope.h>

namespace scopeflow {

using ActionId = std::uint16_t;
inline constexpr ActionId kActionDefault = 0;
inline constexpr ActionId kActionError = 1;
inline constexpr ActionId kActionDrop = 0xFFFF;

namespace detail {
class PipelineEngine;  // the engine behind Pipeline (src/engine)

// Where a held ack is settled (the pipeline). Internal.
class AckTarget {
public:
    virtual void settle_held(std::uint64_t sequence, bool ok, std::string_view reason) = 0;

protected:
    ~AckTarget() = default;
};
}  // namespace detail

// A source event whose ack a stage took over (TaskContext::hold_ack): the stage settles it when
// the work it stands for is really done (an aggregate emitted). Move-only; destroying an
// unsettled hold nacks the event, so nothing is acked by accident and nothing is forgotten.
class [[nodiscard]] AckHold {
public:
    AckHold() noexcept = default;
    AckHold(detail::AckTarget* target, std::uint64_t sequence) noexcept
        : target_(target),
          sequence_(sequence) {}
    AckHold(AckHold&& other) noexcept
        : target_(std::exchange(other.target_, nullptr)),
          sequence_(other.sequence_) {}
    AckHold& operator=(AckHold&& other) noexcept {
        if (this != &other) {
            nack("hold replaced without being settled");
            target_ = std::exchange(other.target_, nullptr);
            sequence_ = other.sequence_;
        }
        return *this;
    }
    AckHold(const AckHold&) = delete;
    AckHold& operator=(const AckHold&) = delete;
    ~AckHold() { nack("hold dropped without being settled"); }

    void ack() { settle(true, {}); }
    void nack(std::string_view reason) { settle(false, reason); }
    [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }
    [[nodiscard]] bool pending() const noexcept { return target_ != nullptr; }

private:
    void settle(bool ok, std::string_view reason) {
        if (target_ != nullptr) {
            std::exchange(target_, nullptr)->settle_held(sequence_, ok, reason);
        }
    }
    detail::AckTarget* target_ = nullptr;
    std::uint64_t sequence_ = 0;
};

class Stage;

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
    [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }

    // Sends a new event downstream from the current stage, through the routes of `action`,
    // after process() returns. It belongs to the current source event: that event is acked only
    // once the emitted one has completed too.
    void emit(Event event, ActionId action = kActionDefault);

    // Takes over the current source event's ack: the engine will not ack it; the stage must
    // settle the returned hold (an aggregation acks its inputs once the aggregate is out). If
    // the event fails on another branch it is nacked at once and the hold's settle is ignored.
    AckHold hold_ack();

    // Settles these holds with this worker's batch: acked once every stage has flushed it
    // (what the batch emitted is then as durable as its inputs were), nacked if a flush fails.
    void ack_with_batch(std::vector<AckHold>&& holds) {
        for (auto& h : holds) {
            with_batch_.push_back(std::move(h));
        }
        holds.clear();
    }

    // Around each event, for a stage driven by hand (a test, a stage driving another); the
    // engine calls them itself.
    void begin_task(std::uint64_t sequence) noexcept {
        sequence_ = sequence;
        held_ = false;
    }
    void end_task() noexcept;  // ends the task scope (failures go to the monitor)

private:
    // The engine reads what the event emitted and held, and settles the batch's holds.
    friend class detail::PipelineEngine;
    void set_ack_target(detail::AckTarget* target) noexcept { ack_target_ = target; }
    [[nodiscard]] bool held() const noexcept { return held_; }
    std::vector<std::pair<ActionId, Event>>& emitted() noexcept { return emitted_; }
    std::vector<AckHold>& with_batch() noexcept { return with_batch_; }

    Scope& worker_root_;
    std::size_t worker_index_;
    std::stop_token stop_;
    std::uint64_t sequence_ = 0;
    std::optional<Scope> task_;
    detail::AckTarget* ack_target_ = nullptr;
    bool held_ = false;
    std::vector<std::pair<ActionId, Event>> emitted_;
    std::vector<AckHold> with_batch_;
};

// What a stage's end_batch sees: its worker, the pipeline's stop token, and a way to fail single
// events of the batch instead of the whole batch. Made by the engine, one per worker; a stage
// uses it only during the call it was given to.
//
//   void on_flush_batch(scopeflow::BatchContext& batch) override {
//       Slot& slot = slots_[batch.worker_index()];
//       try {
//           write(slot.rows);                      // after the stage's own retries
//       } catch (const std::exception& e) {
//           for (auto& kept : slot.events) {       // what process() accepted, kept or rebuilt
//               batch.fail(std::move(kept), e.what());
//           }
//       }
//       slot.clear();                              // never carried into the next batch
//   }
class BatchContext {
public:
    // One event a stage failed (engine side).
    struct Failure {
        Event event;                 // what the dead-letter stage receives (empty for a nack)
        std::string reason;          // the stage's reason
        std::uint64_t sequence = 0;  // the source event's
        std::uint32_t node = 0;      // the failing stage's index in the graph
        bool dead_letter = true;     // false: nack() (back to the source, not dead-lettered)
    };

    BatchContext(std::size_t worker_index, std::stop_token stop)
        : worker_index_(worker_index),
          stop_(std::move(stop)) {}
    BatchContext(const BatchContext&) = delete;
    BatchContext& operator=(const BatchContext&) = delete;

    [[nodiscard]] std::size_t worker_index() const noexcept { return worker_index_; }
    // The pipeline's: a write that waits (a backoff, a slow server) should give up on a stop.
    [[nodiscard]] const std::stop_token& stop_token() const noexcept { return stop_; }

    // Fails one event this stage accepted in the current batch: its write failed for good.
    // `event` is what the dead-letter stage receives: a copy the stage kept, or one rebuilt from
    // what it buffered; its meta().sequence must be the one it had in process() (copies keep it;
    // TaskContext::sequence() gives it). The event takes the normal failure path: with a
    // dead-letter stage it goes there, with `_error` ("stage '<name>': <reason>") and
    // `_failed_stage` set, and its source event is acked once the dead-letter stage has flushed
    // it too; without one, or if the dead-letter stage fails it as well, the source event is
    // nacked. It is never acked as a success. Throws Error if the sequence is not one of this
    // batch's events.
    void fail(Event event, std::string_view reason);

    // Nacks the source event `sequence` without dead-lettering it, so the source offers it again:
    // the write was interrupted, not failed (a stop cut a retry or a backoff short). Counted as
    // PipelineStats::interrupted, not as failed. Throws Error as fail() does.
    void nack(std::uint64_t sequence, std::string_view reason);

    // Events failed or nacked through this context so far in this batch, by any stage.
    [[nodiscard]] std::size_t failed() const noexcept { return failures_.size(); }

private:
    // The engine starts each batch, says which stage runs, and takes the failures; Stage does
    // the same for end_batch(worker_index) outside a pipeline.
    friend class detail::PipelineEngine;
    friend class Stage;
    // Starts a batch: `sequences` are its events (nullptr: no check, as at the end of input).
    void reset(const std::vector<std::uint64_t>* sequences) noexcept {
        sequences_ = sequences;
        sorted_ = false;
        failures_.clear();
    }
    void set_stage(std::uint32_t node) noexcept { node_ = node; }
    std::vector<Failure>& failures() noexcept { return failures_; }

    void check(std::uint64_t sequence);

    std::size_t worker_index_;
    std::stop_token stop_;
    std::uint32_t node_ = 0;
    const std::vector<std::uint64_t>* sequences_ = nullptr;
    std::vector<std::uint64_t> lookup_;  // sorted copy of *sequences_, made at the first failure
    bool sorted_ = false;
    std::vector<Failure> failures_;
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
    // Whether process() may return kActionDrop (declare_drops()).
    [[nodiscard]] bool may_drop() const noexcept { return drops_; }

    // --- lifecycle, driven by the engine ---
    void open(Scope& stage_scope, std::size_t workers);
    void open_worker(Scope& worker_scope, std::size_t worker_index);
    ActionId process(Event& event, TaskContext& task) { return on_process(event, task); }
    // After each batch of a worker, before its events are acked: make what the batch wrote
    // durable (per the stage's policy). batch.fail() fails single events; a throw nacks the
    // whole batch. Every stage's end_batch runs, even after another stage's threw.
    void end_batch(BatchContext& batch) { on_flush_batch(batch); }
    // The same outside a pipeline (tests, a stage driving another by hand): with a context of
    // its own; throws BatchError naming the first reason if the hook failed or nacked events.
    void end_batch(std::size_t worker_index);
    // Once, when the input is exhausted (not on a stop), after the workers ended and before
    // finish: emit what is still buffered (the last window) with task.emit(). Not called on a
    // stop: a stage holding acks nacks them in finish, so the input is read again on restart.
    void flush(TaskContext& task) { on_flush(task); }
    void finish(Scope& stage_scope);

    // Why the stage cannot make progress right now, e.g. "write 'out/x.jsonl.tmp': No space left
    // on device" while a sink waits for space; empty when it can. /readyz and the stage metrics
    // show it. Called from any thread, at any time after open().
    [[nodiscard]] virtual std::string degraded() const { return {}; }

protected:
    // Declares that process() may end events with kActionDrop (a filter, an aggregate).
    void declare_drops() noexcept { drops_ = true; }

    virtual void on_open(Scope& stage_scope, std::size_t workers);
    virtual void on_open_worker(Scope& worker_scope, std::size_t worker_index);
    virtual ActionId on_process(Event& event, TaskContext& task) = 0;
    // End of batch with the BatchContext; the default calls on_end_batch(batch.worker_index()).
    virtual void on_flush_batch(BatchContext& batch);
    // End of batch for an all-or-nothing flush: throw to nack the whole batch.
    virtual void on_end_batch(std::size_t worker_index);
    virtual void on_flush(TaskContext& task);
    virtual void on_finish(Scope& stage_scope);

private:
    std::string type_;
    std::vector<std::string> actions_{"default", "error"};
    bool opened_ = false;
    bool drops_ = false;
};

}  // namespace scopeflow
