#include <algorithm>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

TaskContext::TaskContext(Scope& worker_root, std::size_t worker_index, std::stop_token stop)
    : worker_root_(worker_root),
      worker_index_(worker_index),
      stop_(std::move(stop)) {}

TaskContext::~TaskContext() {
    end_task();
}

Scope& TaskContext::scope() {
    if (!task_) {
        task_.emplace(
            worker_root_.child("event-" + std::to_string(sequence_), {.level = ScopeLevel::task}));
    }
    return *task_;
}

void TaskContext::emit(Event event, ActionId action) {
    emitted_.emplace_back(action, std::move(event));
}

AckHold TaskContext::hold_ack() {
    if (ack_target_ == nullptr) {
        throw Error("hold_ack() outside a pipeline");
    }
    held_ = true;
    return AckHold(ack_target_, sequence_);
}

void TaskContext::end_task() noexcept {
    task_.reset();  // the destructor closes and reports failures to the monitor
}

void BatchContext::check(std::uint64_t sequence) {
    if (sequences_ == nullptr) {
        return;
    }
    if (!sorted_) {
        lookup_.assign(sequences_->begin(), sequences_->end());
        std::sort(lookup_.begin(), lookup_.end());
        sorted_ = true;
    }
    if (!std::binary_search(lookup_.begin(), lookup_.end(), sequence)) {
        throw Error("end_batch failed event " + std::to_string(sequence) +
                    ", which is not an event of this batch (a stage must fail what it accepted "
                    "in the batch, with the sequence it had in process())");
    }
}

void BatchContext::fail(Event event, std::string_view reason) {
    const std::uint64_t sequence = event.meta().sequence;
    check(sequence);
    failures_.push_back({.event = std::move(event),
                         .reason = std::string(reason),
                         .sequence = sequence,
                         .node = node_,
                         .dead_letter = true});
}

void BatchContext::nack(std::uint64_t sequence, std::string_view reason) {
    check(sequence);
    failures_.push_back({.event = Event(),
                         .reason = std::string(reason),
                         .sequence = sequence,
                         .node = node_,
                         .dead_letter = false});
}

Stage::Stage(std::string type)
    : type_(std::move(type)) {}

Stage::~Stage() = default;

ActionId Stage::declare_action(std::string_view name) {
    if (opened_) {
        throw ConfigError(type_, "action '" + std::string(name) + "' declared after open");
    }
    const ActionId existing = action_id(name);
    if (existing != kActionDrop) {
        return existing;
    }
    if (name == "drop") {
        throw ConfigError(type_, "'drop' is reserved");
    }
    actions_.emplace_back(name);
    return static_cast<ActionId>(actions_.size() - 1);
}

ActionId Stage::action_id(std::string_view name) const {
    const auto it = std::find(actions_.begin(), actions_.end(), name);
    return it == actions_.end() ? kActionDrop : static_cast<ActionId>(it - actions_.begin());
}

void Stage::open(Scope& stage_scope, std::size_t workers) {
    opened_ = true;
    on_open(stage_scope, workers);
}

void Stage::open_worker(Scope& worker_scope, std::size_t worker_index) {
    on_open_worker(worker_scope, worker_index);
}

void Stage::end_batch(std::size_t worker_index) {
    BatchContext batch(worker_index, {});
    on_flush_batch(batch);
    const auto& failures = batch.failures();
    if (!failures.empty()) {
        throw BatchError("stage '" + type_ + "': " + std::to_string(failures.size()) +
                         " event(s) of the batch failed; first: " + failures.front().reason);
    }
}

void Stage::finish(Scope& stage_scope) {
    on_finish(stage_scope);
}

void Stage::on_open(Scope& /*stage_scope*/, std::size_t /*workers*/) {}
void Stage::on_open_worker(Scope& /*worker_scope*/, std::size_t /*worker_index*/) {}
void Stage::on_flush_batch(BatchContext& batch) {
    on_end_batch(batch.worker_index());
}
void Stage::on_end_batch(std::size_t /*worker_index*/) {}
void Stage::on_flush(TaskContext& /*task*/) {}
void Stage::on_finish(Scope& /*stage_scope*/) {}

}  // namespace scopeflow
