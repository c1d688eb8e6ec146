#include <algorithm>
#include <unordered_map>
#include <utility>

#include <scopeflow/core/detail/coarse_clock.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/engine/log.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>

#include "core/format_duration.h"
#include "engine/pipeline_engine.h"

namespace scopeflow {
namespace detail {

// Per-worker counters: written by one worker only (plain load+store, no read-modify-write),
// read by stats() from any thread.
struct PipelineEngine::Counters {
    explicit Counters(std::size_t stages)
        : processed(stages),
          errors(stages) {}

    // What the worker is doing, for drain() reports: the stage index (kIdle between events),
    // the event, and since when the event started (coarse clock, read once per event, not per
    // visit). Relaxed stores: a report may be a visit late.
    static constexpr std::uint32_t kIdle = 0xFFFFFFFFU;
    std::atomic<std::uint32_t> current_stage{kIdle};
    std::atomic<std::uint64_t> current_event{0};
    std::atomic<std::int64_t> since_ns{0};

    static void bump(std::atomic<std::uint64_t>& c) noexcept {
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    std::vector<std::atomic<std::uint64_t>> processed;
    std::vector<std::atomic<std::uint64_t>> errors;
    std::atomic<std::uint64_t> read{0};
    std::atomic<std::uint64_t> completed{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> dead_lettered{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> interrupted{0};
    std::atomic<std::uint64_t> acked{0};
    std::atomic<std::uint64_t> nacked{0};
    std::atomic<std::uint64_t> emitted{0};
    std::atomic<std::uint64_t> flush_failed{0};

    static void unbump(std::atomic<std::uint64_t>& c) noexcept {
        c.store(c.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }
};

// One branch of an event's walk through the graph. The root branch points at the batch's
// event; fan-out copies live in `copy`.
struct PipelineEngine::Branch {
    std::uint32_t node = 0;
    std::uint32_t hops = 0;
    bool dead_letter = false;  // on its way through the dead-letter stage
    Event* event = nullptr;
    std::unique_ptr<Event> copy;
};

PipelineEngine::PipelineEngine(std::string name,
                               Graph graph,
                               Source& source,
                               PipelineOptions options)
    : name_(std::move(name)),
      graph_(std::move(graph)),
      source_(source),
      options_(options) {
    if (options_.workers == 0) {
        throw ConfigError("pipeline." + name_ + ".workers", "must be at least 1");
    }
    if (options_.batch_size == 0) {
        throw ConfigError("pipeline." + name_ + ".batch_size", "must be at least 1");
    }
}

PipelineEngine::~PipelineEngine() {
    if (started_ && !waited_) {
        request_stop();
        try {
            wait();
        } catch (...) {
            if (scope_) {
                scope_->monitor().report({.kind = ReportKind::close_error,
                                          .scope_path = scope_->path(),
                                          .message = describe(std::current_exception())});
            }
        }
    }
    // Stages go first, while everything they may call back into (held acks) still exists.
    graph_ = Graph();
}

void PipelineEngine::start(Scope& parent) {
    if (started_) {
        throw Error("pipeline '" + name_ + "' was already started");
    }
    graph_.validate();  // configuration errors surface before anything opens
    started_ = true;
    // What routes reach what, for events failed at the end of a batch: where their branches
    // ended, and which stages flush again after the dead-letter stage.
    const std::size_t n = graph_.nodes().size();
    reaches_.assign(n * n, 0);
    for (std::uint32_t from = 0; from < n; ++from) {
        all_nodes_.push_back(from);
        const std::vector<bool> reached = graph_.reachable_from({&from, 1});
        std::copy(reached.begin(), reached.end(),
                  reaches_.begin() + static_cast<std::ptrdiff_t>(from * n));
    }
    if (const std::uint32_t dl = graph_.dead_letter(); dl != Graph::kNoNode) {
        for (std::uint32_t i = 0; i < n; ++i) {
            if (reaches_[dl * n + i] != 0) {
                dead_letter_reach_.push_back(i);
            }
        }
    }
    scope_.emplace(parent.child(
        name_, {.level = ScopeLevel::pipeline, .close_timeout = options_.close_timeout}));
    try {
        const std::size_t workers = options_.workers;
        source_scope_.emplace(scope_->child("source", {.close_timeout = options_.close_timeout}));
        opening_ = "source";
        source_.open(*source_scope_);
        for (auto& node : graph_.nodes()) {
            stage_scopes_.push_back(scope_->child(
                node.name, {.level = ScopeLevel::stage, .close_timeout = options_.close_timeout}));
            opening_ = "graph.stages." + node.name;
            node.stage->open(stage_scopes_.back(), workers);
        }
        for (std::size_t s = 0; s < graph_.nodes().size(); ++s) {
            opening_ = "graph.stages." + graph_.nodes()[s].name;
            for (std::size_t w = 0; w < workers; ++w) {
                stage_worker_scopes_.push_back(stage_scopes_[s].child(
                    "worker-" + std::to_string(w), {.level = ScopeLevel::worker}));
                graph_.nodes()[s].stage->open_worker(stage_worker_scopes_.back(), w);
            }
        }
        opening_.clear();
        for (std::size_t w = 0; w < workers; ++w) {
            worker_scopes_.push_back(
                scope_->child("worker-" + std::to_string(w), {.level = ScopeLevel::worker}));
            counters_.push_back(std::make_unique<Counters>(graph_.nodes().size()));
        }
        {
            std::lock_guard lock(done_mu_);
            workers_running_ = workers;
        }
        for (std::size_t w = 0; w < workers; ++w) {
            thread_tickets_.push_back(
                scope_->track({"worker-" + std::to_string(w), ResourceKind::thread}));
        }
        // Workers wait for `go` so that none reads an event unless the whole start succeeded.
        for (std::size_t w = 0; w < workers; ++w) {
            threads_.emplace_back([this, w, token = stop_.get_token()] {
                go_.wait();
                worker_main(w, token);
            });
        }
        go_.count_down();
    } catch (...) {
        // A start that fails part-way closes what already opened, then reports the failure.
        gate_.close();
        stop_.request_stop();
        if (!go_.try_wait()) {
            go_.count_down();  // released workers see the stop and end at once
        }
        threads_.clear();  // joins
        thread_tickets_.clear();
        waited_ = true;
        scope_->close_after_failure();
        throw;
    }
}

void PipelineEngine::request_stop() {
    gate_.close();
    stop_.request_stop();
}

void PipelineEngine::worker_main(std::size_t index, const std::stop_token& stop) {
    Counters& counters = *counters_[index];
    TaskContext task(worker_scopes_[index], index, stop);
    task.set_ack_target(this);
    BatchContext batch_context(index, stop);
    std::vector<Event> batch(options_.batch_size);
    std::vector<Branch> work;
    BatchOutcomes outcomes;
    outcomes.sequences.reserve(options_.batch_size);
    outcomes.acked.reserve(options_.batch_size);
    outcomes.ends.reserve(options_.batch_size);
    try {
        for (;;) {
            auto pass = gate_.try_enter();
            if (!pass) {
                break;
            }
            const std::size_t n = source_.read(batch, stop);
            if (n == 0) {
                if (!stop.stop_requested()) {
                    input_exhausted_.store(true);
                }
                break;
            }
            outcomes.clear();
            for (std::size_t i = 0; i < n; ++i) {
                Counters::bump(counters.read);
                outcomes.sequences.push_back(batch[i].meta().sequence);
                run_event(batch[i], task, counters, work, outcomes);
            }
            settle_batch(outcomes, counters, task, batch_context, work);
            if (failure_log_.owing()) {
                log_owed_failures(false);
            }
        }
    } catch (...) {
        {
            std::lock_guard lock(fatal_mu_);
            if (!fatal_) {
                fatal_ = std::current_exception();
            }
        }
        request_stop();
    }
    std::lock_guard lock(done_mu_);
    --workers_running_;
    done_cv_.notify_all();
}

void PipelineEngine::settle_batch(BatchOutcomes& outcomes,
                                  Counters& counters,
                                  TaskContext& task,
                                  BatchContext& batch,
                                  std::vector<Branch>& work) {
    // Acks wait until every stage has flushed what this batch wrote: an acked event is durable
    // as far as the stages' policies go. A failed flush nacks the whole batch.
    batch.reset(&outcomes.sequences);
    FlushErrors errors;
    end_batches(batch, all_nodes_, errors);
    std::vector<std::pair<std::uint64_t, std::string>> nacks;
    if (errors.errors.empty() && !batch.failures().empty()) {
        errors = fail_events(batch, outcomes, counters, task, work, nacks);
    }
    if (!errors.errors.empty()) {
        const std::string reason = "flush failed: " + errors.reason;
        report_failure("end of batch",
                       stopping(errors) ? FailureOutcome::interrupted : FailureOutcome::batch,
                       "flush",
                       reason + " (" + std::to_string(outcomes.acked.size()) +
                           " event(s) of the batch nacked)");
        for (const std::uint64_t s : outcomes.acked) {
            outcomes.failed.emplace_back(s, reason);
        }
        outcomes.acked.clear();
        for (AckHold& h : task.with_batch()) {
            h.nack(reason);
        }
    } else if (!nacks.empty()) {
        // Events failed from end_batch with nowhere to go: their source events are nacked, never
        // also acked. Fails are rare, so a map is built only here.
        std::unordered_map<std::uint64_t, std::string> reasons;
        for (auto& [sequence, reason] : nacks) {
            reasons.try_emplace(sequence, std::move(reason));
        }
        std::erase_if(outcomes.acked, [&](std::uint64_t sequence) {
            const auto it = reasons.find(sequence);
            if (it == reasons.end()) {
                return false;
            }
            outcomes.failed.emplace_back(sequence, std::move(it->second));
            reasons.erase(it);
            return true;
        });
        for (const std::uint64_t sequence : outcomes.held) {
            const auto it = reasons.find(sequence);
            if (it == reasons.end()) {
                continue;
            }
            {
                std::lock_guard lock(held_mu_);
                held_failed_.insert(sequence);  // nacked now; the hold's settle will be ignored
            }
            outcomes.failed.emplace_back(sequence, std::move(it->second));
            reasons.erase(it);
        }
        // What a stage of this batch took over and settles with it may be what failed (an
        // aggregate): nacked, so its inputs are read again rather than lost.
        const std::string reason = "an event of the batch failed: " + nacks.front().second;
        for (AckHold& h : task.with_batch()) {
            h.nack(reason);
        }
    }
    for (AckHold& h : task.with_batch()) {
        h.ack();  // no-op for the ones nacked above
    }
    task.with_batch().clear();
    if (!outcomes.acked.empty()) {
        counters.acked.store(counters.acked.load(std::memory_order_relaxed) + outcomes.acked.size(),
                             std::memory_order_relaxed);
        source_.ack_many(outcomes.acked);
    }
    for (const auto& [sequence, reason] : outcomes.failed) {
        Counters::bump(counters.nacked);
        source_.nack(sequence, reason);
    }
}

void PipelineEngine::end_batches(BatchContext& batch,
                                 const std::vector<std::uint32_t>& nodes,
                                 FlushErrors& errors) {
    for (const std::uint32_t i : nodes) {
        Graph::Node& node = graph_.nodes()[i];
        batch.set_stage(i);
        try {
            node.stage->end_batch(batch);
        } catch (...) {
            // The next stages still flush: a skipped one would carry this batch's buffer into
            // the next batch.
            errors.errors.push_back(std::current_exception());
            errors.reason += (errors.reason.empty() ? "stage '" : "; stage '") + node.name +
                             "': " + message_of(std::current_exception());
        }
    }
}

std::optional<bool> PipelineEngine::take_end(std::vector<BranchEnd>& ends,
                                             std::uint64_t sequence,
                                             std::uint32_t node,
                                             Counters& counters) {
    // `ends` is sorted by (sequence, node) by the caller.
    const auto first =
        std::lower_bound(ends.begin(), ends.end(), sequence,
                         [](const BranchEnd& e, std::uint64_t s) { return e.sequence < s; });
    auto last = first;
    while (last != ends.end() && last->sequence == sequence) {
        ++last;
    }
    const std::size_t n = graph_.nodes().size();
    BranchEnd* found = nullptr;
    for (auto it = first; it != last && found == nullptr; ++it) {
        if (!it->taken && it->node == node) {
            found = &*it;  // the stage was the branch's sink
        }
    }
    for (auto it = first; it != last && found == nullptr; ++it) {
        if (!it->taken && reaches_[node * n + it->node] != 0) {
            found = &*it;  // the stage passed it on; it ended further down
        }
    }
    if (found == nullptr) {
        return std::nullopt;
    }
    found->taken = true;
    switch (found->kind) {
        case EndKind::completed:
            Counters::unbump(counters.completed);
            break;
        case EndKind::dead_lettered:
            Counters::unbump(counters.dead_lettered);
            break;
        case EndKind::dropped:
            Counters::unbump(counters.dropped);
            break;
        case EndKind::failed:
            Counters::unbump(counters.failed);
            break;
        case EndKind::interrupted:
            Counters::unbump(counters.interrupted);
            break;
    }
    return found->dead_letter;
}

PipelineEngine::FlushErrors PipelineEngine::fail_events(
    BatchContext& batch,
    BatchOutcomes& outcomes,
    Counters& counters,
    TaskContext& task,
    std::vector<Branch>& work,
    std::vector<std::pair<std::uint64_t, std::string>>& nacks) {
    auto& nodes = graph_.nodes();
    const std::uint32_t dead_letter = graph_.dead_letter();
    std::sort(outcomes.ends.begin(), outcomes.ends.end(), [](const auto& a, const auto& b) {
        return std::pair{a.sequence, a.node} < std::pair{b.sequence, b.node};
    });
    auto count = [&](const BatchContext::Failure& f) {
        Counters::bump(counters.flush_failed);
        Counters::bump(counters.errors[f.node]);
        return take_end(outcomes.ends, f.sequence, f.node, counters)
            .value_or(f.node == dead_letter);
    };
    auto nowhere = [&](const BatchContext::Failure& f, bool on_dead_letter_path) {
        std::string reason = "stage '" + nodes[f.node].name + "': " + f.reason;
        if (!f.dead_letter) {
            // BatchContext::nack: the write was interrupted (a stop), not failed: read again.
            Counters::bump(counters.interrupted);
            report_failure(nodes[f.node].name, FailureOutcome::interrupted, "end of batch", reason);
        } else {
            Counters::bump(counters.failed);
            report_failure(
                nodes[f.node].name,
                on_dead_letter_path ? FailureOutcome::failed_dead_letter : FailureOutcome::failed,
                "end of batch", reason);
        }
        nacks.emplace_back(f.sequence, std::move(reason));
    };
    std::vector<BatchContext::Failure> failures = std::move(batch.failures());
    batch.failures().clear();
    bool walked = false;
    // A stage reached by a failed event cannot take over its ack: the batch settles it.
    task.set_ack_target(nullptr);
    for (BatchContext::Failure& f : failures) {
        const bool on_dead_letter = count(f);
        if (!f.dead_letter || dead_letter == Graph::kNoNode || on_dead_letter) {
            nowhere(f, on_dead_letter);
            continue;
        }
        report_failure(nodes[f.node].name, FailureOutcome::dead_lettered, "end of batch",
                       "stage '" + nodes[f.node].name + "': " + f.reason);
        f.event.meta().sequence = f.sequence;
        f.event.set("_error", Value("stage '" + nodes[f.node].name + "': " + f.reason));
        f.event.set("_failed_stage", Value(nodes[f.node].name));
        task.begin_task(f.sequence);
        work.clear();
        work.push_back({dead_letter, 0, true, &f.event, nullptr});
        std::optional<std::string> failure = walk(task, counters, work, outcomes.ends);
        task.end_task();
        walked = true;
        if (failure) {
            nacks.emplace_back(f.sequence, std::move(*failure));
        }
    }
    task.set_ack_target(this);
    FlushErrors errors;
    if (walked) {
        // What the failed events wrote on the dead-letter path is flushed before the acks.
        batch.failures().clear();
        end_batches(batch, dead_letter_reach_, errors);
        if (errors.errors.empty()) {
            std::sort(outcomes.ends.begin(), outcomes.ends.end(), [](const auto& a, const auto& b) {
                return std::pair{a.sequence, a.node} < std::pair{b.sequence, b.node};
            });
            for (const BatchContext::Failure& f : batch.failures()) {
                (void)count(f);
                nowhere(f, true);  // failed on the dead-letter path: not dead-lettered again
            }
        }
        batch.failures().clear();
    }
    return errors;
}

void PipelineEngine::push_emitted(std::uint32_t from,
                                  std::uint32_t hops,
                                  bool dead_letter,
                                  TaskContext& task,
                                  Counters& counters,
                                  std::vector<Branch>& work,
                                  std::vector<BranchEnd>& ends) {
    // Events a stage emitted start their own branches from that stage's routes.
    const Graph::Node& node = graph_.nodes()[from];
    // Pushed in reverse: the work list is a stack, so they are walked in emission order.
    for (auto it = task.emitted().rbegin(); it != task.emitted().rend(); ++it) {
        auto& [emit_action, emitted] = *it;
        Counters::bump(counters.emitted);
        emitted.meta().sequence = task.sequence();
        const std::vector<std::uint32_t>* to =
            emit_action < node.routes.size() ? &node.routes[emit_action] : nullptr;
        if (to == nullptr || to->empty()) {
            Counters::bump(dead_letter ? counters.dead_lettered : counters.completed);
            ends.push_back({task.sequence(), from,
                            dead_letter ? EndKind::dead_lettered : EndKind::completed,
                            dead_letter});
            continue;
        }
        for (std::size_t t = 0; t < to->size(); ++t) {
            auto copy = t + 1 == to->size() ? std::make_unique<Event>(std::move(emitted))
                                            : std::make_unique<Event>(emitted);
            Event* raw = copy.get();
            work.push_back({(*to)[t], hops + 1, dead_letter, raw, std::move(copy)});
        }
    }
    task.emitted().clear();
}

std::optional<std::string> PipelineEngine::walk(TaskContext& task,
                                                Counters& counters,
                                                std::vector<Branch>& work,
                                                std::vector<BranchEnd>& ends) {
    auto& nodes = graph_.nodes();
    const std::uint32_t dead_letter = graph_.dead_letter();
    std::optional<std::string> failure;
    while (!work.empty()) {
        Branch b = std::move(work.back());
        work.pop_back();
        Graph::Node& node = nodes[b.node];
        ActionId action = kActionError;
        std::string error;
        const char* kind = "error";
        bool stopped = false;  // a stop interrupted it: not a failure of the event
        if (b.hops >= graph_.max_hops()) {
            error = "hop limit of " + std::to_string(graph_.max_hops()) + " reached at stage '" +
                    node.name + "'";
            kind = "hop limit";
        } else {
            Counters::bump(counters.processed[b.node]);
            counters.current_stage.store(b.node, std::memory_order_relaxed);
            try {
                action = node.stage->process(*b.event, task);
                if (action == kActionError) {
                    error = "stage '" + node.name + "' returned error";
                }
            } catch (const CancelledError& e) {
                error = "stage '" + node.name + "': " + e.what();
                stopped = true;
            } catch (const ScopeClosedError& e) {
                error = "stage '" + node.name + "': " + e.what();
                stopped = true;
            } catch (const TransientError& e) {
                // A retriable error once the pipeline is stopping: a later run will retry it.
                error = "stage '" + node.name + "': " + e.what();
                stopped = task.stop_token().stop_requested();
            } catch (const std::exception& e) {
                error = "stage '" + node.name + "': " + e.what();
            } catch (...) {
                error = "stage '" + node.name + "': unknown exception";
            }
            if (action == kActionError) {
                Counters::bump(counters.errors[b.node]);
            }
            if (!task.emitted().empty()) {
                push_emitted(b.node, b.hops, b.dead_letter, task, counters, work, ends);
            }
        }
        if (action == kActionDrop) {
            Counters::bump(counters.dropped);
            ends.push_back({task.sequence(), b.node, EndKind::dropped, b.dead_letter});
            continue;
        }
        const std::vector<std::uint32_t>* targets =
            action < node.routes.size() ? &node.routes[action] : nullptr;
        if (stopped) {
            // Nacked, so the source offers it again; never dead-lettered, never counted failed.
            Counters::bump(counters.interrupted);
            ends.push_back({task.sequence(), b.node, EndKind::interrupted, b.dead_letter});
            report_failure(node.name, FailureOutcome::interrupted, kind, error);
            failure = std::move(error);
            continue;
        }
        if (action == kActionError &&
            (targets == nullptr || targets->empty() || b.hops >= graph_.max_hops())) {
            if (dead_letter != Graph::kNoNode && !b.dead_letter) {
                report_failure(node.name, FailureOutcome::dead_lettered, kind, error);
                b.event->set("_error", Value(error));
                b.event->set("_failed_stage", Value(node.name));
                work.push_back({dead_letter, 0, true, b.event, std::move(b.copy)});
            } else {
                Counters::bump(counters.failed);
                ends.push_back({task.sequence(), b.node, EndKind::failed, b.dead_letter});
                report_failure(
                    node.name,
                    b.dead_letter ? FailureOutcome::failed_dead_letter : FailureOutcome::failed,
                    kind, error);
                failure = std::move(error);
            }
            continue;
        }
        if (targets == nullptr || targets->empty()) {
            Counters::bump(b.dead_letter ? counters.dead_lettered : counters.completed);
            ends.push_back({task.sequence(), b.node,
                            b.dead_letter ? EndKind::dead_lettered : EndKind::completed,
                            b.dead_letter});
            continue;
        }
        // Fan-out: every target but the last gets a copy; the last takes the event itself.
        for (std::size_t t = 0; t + 1 < targets->size(); ++t) {
            auto copy = std::make_unique<Event>(*b.event);
            Event* raw = copy.get();
            work.push_back({(*targets)[t], b.hops + 1, b.dead_letter, raw, std::move(copy)});
        }
        work.push_back({targets->back(), b.hops + 1, b.dead_letter, b.event, std::move(b.copy)});
    }
    return failure;
}

void PipelineEngine::run_event(Event& event,
                               TaskContext& task,
                               Counters& counters,
                               std::vector<Branch>& work,
                               BatchOutcomes& outcomes) {
    const std::uint32_t dead_letter = graph_.dead_letter();
    task.begin_task(event.meta().sequence);
    counters.current_event.store(event.meta().sequence, std::memory_order_relaxed);
    counters.since_ns.store(detail::coarse_now_ns(), std::memory_order_relaxed);
    work.clear();
    if (event.meta().decode_failed) {
        // The source could not decode it (its `_error` field says where): no stage can use it.
        if (dead_letter == Graph::kNoNode) {
            Counters::bump(counters.failed);
            std::string reason(event.get_string("_error").value_or("decode failed"));
            report_failure("source", FailureOutcome::failed, "undecodable", reason);
            outcomes.failed.emplace_back(event.meta().sequence, std::move(reason));
            return;
        }
        work.push_back({dead_letter, 0, true, &event, nullptr});
    } else {
        work.push_back({graph_.entry(), 0, false, &event, nullptr});
    }
    std::optional<std::string> failure = walk(task, counters, work, outcomes.ends);
    counters.current_stage.store(Counters::kIdle, std::memory_order_relaxed);
    task.end_task();
    const std::uint64_t sequence = event.meta().sequence;
    if (task.held()) {
        held_.fetch_add(1, std::memory_order_relaxed);
        if (!failure) {
            outcomes.held.push_back(sequence);
            return;  // a stage settles it later through its AckHold
        }
        std::lock_guard lock(held_mu_);
        held_failed_.insert(sequence);  // nacked now; the hold's settle will be ignored
    }
    if (failure) {
        outcomes.failed.emplace_back(sequence, failure->empty() ? "failed" : std::move(*failure));
    } else {
        outcomes.acked.push_back(sequence);
    }
}

void PipelineEngine::flush_stages() {
    // The workers have ended, so worker 0's per-worker state is free for this thread to use.
    Counters& counters = *counters_[0];
    TaskContext task(worker_scopes_[0], 0, stop_.get_token());
    task.set_ack_target(this);
    BatchOutcomes outcomes;  // no source events: only what the stages emit now
    std::vector<Branch> work;
    for (std::uint32_t i = 0; i < graph_.nodes().size(); ++i) {
        task.begin_task(0);
        graph_.nodes()[i].stage->flush(task);
        push_emitted(i, 0, false, task, counters, work, outcomes.ends);
        if (std::optional<std::string> failure = walk(task, counters, work, outcomes.ends)) {
            throw Error("flushing stage '" + graph_.nodes()[i].name + "': " + *failure);
        }
        task.end_task();
    }
    BatchContext batch(0, stop_.get_token());
    batch.reset(nullptr);
    FlushErrors errors;
    end_batches(batch, all_nodes_, errors);
    std::vector<std::pair<std::uint64_t, std::string>> nacks;
    if (errors.errors.empty() && !batch.failures().empty()) {
        errors = fail_events(batch, outcomes, counters, task, work, nacks);
    }
    if (!errors.errors.empty()) {
        // The holds still in `task` are nacked when it goes: the inputs are read again.
        const std::exception_ptr first = errors.errors.front();
        try {
            std::rethrow_exception(first);
        } catch (Error& e) {
            for (std::size_t i = 1; i < errors.errors.size(); ++i) {
                e.add_suppressed(errors.errors[i]);
            }
            throw;
        }
    }
    for (AckHold& h : task.with_batch()) {
        if (nacks.empty()) {
            h.ack();
        } else {
            h.nack("an event emitted at the end of the input failed: " + nacks.front().second);
        }
    }
    task.with_batch().clear();
}

void PipelineEngine::settle_held(std::uint64_t sequence, bool ok, std::string_view reason) {
    {
        std::lock_guard lock(held_mu_);
        if (held_failed_.erase(sequence) > 0) {
            return;
        }
    }
    if (ok) {
        held_acked_.fetch_add(1, std::memory_order_relaxed);
        source_.ack(sequence);
    } else {
        held_nacked_.fetch_add(1, std::memory_order_relaxed);
        source_.nack(sequence, reason);
    }
}

void PipelineEngine::wait() {
    if (!started_) {
        throw Error("pipeline '" + name_ + "' was not started");
    }
    if (waited_) {
        return;
    }
    waited_ = true;
    for (auto& t : threads_) {
        t.join();
    }
    threads_.clear();
    thread_tickets_.clear();
    log_owed_failures(true);
    std::exception_ptr fatal;
    {
        std::lock_guard lock(fatal_mu_);
        fatal = fatal_;
    }
    try {
        if (fatal) {
            std::rethrow_exception(fatal);  // finish is skipped: the run did not complete
        }
        if (input_exhausted_.load() && !stop_.stop_requested()) {
            flush_stages();
        }
        for (std::size_t s = 0; s < stage_scopes_.size(); ++s) {
            graph_.nodes()[s].stage->finish(stage_scopes_[s]);
        }
        source_.commit();
    } catch (...) {
        scope_->close_after_failure();
        throw;
    }
    scope_->close();
}

bool PipelineEngine::drain(std::chrono::nanoseconds timeout,
                           std::chrono::nanoseconds report_every) {
    if (!started_ || waited_) {
        return true;  // nothing running
    }
    request_stop();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(done_mu_);
    for (;;) {
        const auto next = std::min(deadline, std::chrono::steady_clock::now() + report_every);
        if (done_cv_.wait_until(lock, next, [this] { return workers_running_ == 0; })) {
            return true;
        }
        lock.unlock();
        for (const std::string& busy : busy_workers()) {
            scope_->monitor().report({.kind = ReportKind::stuck,
                                      .scope_path = scope_->path(),
                                      .resource = "drain",
                                      .resource_kind = ResourceKind::thread,
                                      .message = busy});
        }
        lock.lock();
        if (std::chrono::steady_clock::now() >= deadline) {
            return workers_running_ == 0;
        }
    }
}

bool PipelineEngine::workers_done(std::chrono::nanoseconds timeout) {
    if (!started_ || waited_) {
        return true;
    }
    std::unique_lock lock(done_mu_);
    return done_cv_.wait_for(lock, timeout, [this] { return workers_running_ == 0; });
}

std::vector<std::string> PipelineEngine::busy_workers() const {
    std::vector<std::string> out;
    const std::int64_t now = detail::coarse_now_ns();
    for (std::size_t w = 0; w < counters_.size(); ++w) {
        const Counters& c = *counters_[w];
        const std::uint32_t stage = c.current_stage.load(std::memory_order_relaxed);
        if (stage == Counters::kIdle) {
            continue;
        }
        const auto for_ns =
            std::max<std::int64_t>(0, now - c.since_ns.load(std::memory_order_relaxed));
        out.push_back(
            "worker-" + std::to_string(w) + ": stage '" + graph_.nodes()[stage].name + "', event " +
            std::to_string(c.current_event.load(std::memory_order_relaxed)) + " (in flight for " +
            detail::format_duration(std::chrono::nanoseconds(for_ns)) + ")");
    }
    return out;
}

namespace {

// The failure log's keys: the level's letter, then the line's text before the reason.
char level_letter(LogLevel level) {
    return level == LogLevel::error ? 'E' : level == LogLevel::warn ? 'W' : 'I';
}
LogLevel letter_level(char c) {
    return c == 'E' ? LogLevel::error : c == 'W' ? LogLevel::warn : LogLevel::info;
}

}  // namespace

bool PipelineEngine::stopping(const FlushErrors& errors) const {
    if (!stop_.stop_requested()) {
        return false;
    }
    for (const std::exception_ptr& e : errors.errors) {
        try {
            std::rethrow_exception(e);
        } catch (const CancelledError&) {
        } catch (const ScopeClosedError&) {
        } catch (const TransientError&) {
        } catch (...) {
            return false;
        }
    }
    return true;
}

void PipelineEngine::report_failure(std::string_view stage,
                                    FailureOutcome outcome,
                                    std::string_view kind,
                                    std::string_view reason) {
    LogLevel level = LogLevel::error;
    std::string_view what;
    switch (outcome) {
        case FailureOutcome::dead_lettered:
            level = LogLevel::warn;
            what = "dead-lettered";
            break;
        case FailureOutcome::failed:
            what = "nacked: no dead-letter stage took it";
            break;
        case FailureOutcome::failed_dead_letter:
            what = "nacked: it failed on the dead-letter path";
            break;
        case FailureOutcome::interrupted:
            level = LogLevel::info;
            what = "nacked: interrupted by the stop, read again after a restart";
            break;
        case FailureOutcome::batch:
            what = "the batch was nacked";
            break;
    }
    std::string key(1, level_letter(level));
    key += "pipeline '" + name_ + "': ";
    key += stage == "source" || stage == "end of batch" ? std::string(stage)
                                                        : "stage '" + std::string(stage) + "'";
    key += ": event failed (";
    key += kind;
    key += "), ";
    key += what;
    const std::uint64_t n = failure_log_.hit(key, reason);
    if (n == 1) {
        log(level, key.substr(1) + ": " + std::string(reason));
    } else if (n > 1) {
        log(level, key.substr(1) + ": " + std::to_string(n) +
                       " times since the last such line; last: " + std::string(reason));
    }
}

void PipelineEngine::log_owed_failures(bool all) {
    for (const LogLimiter::Owed& owed : failure_log_.due(LogLimiter::Clock::now(), all)) {
        log(letter_level(owed.key.front()),
            owed.key.substr(1) + ": " + std::to_string(owed.count) +
                " times since the last such line; last: " + owed.last);
    }
}

PipelineStats PipelineEngine::stats() const {
    PipelineStats s;
    const auto& nodes = graph_.nodes();
    s.stages.resize(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        s.stages[i].name = nodes[i].name;
        s.stages[i].degraded = nodes[i].stage->degraded();
    }
    for (const auto& c : counters_) {
        s.read += c->read.load(std::memory_order_relaxed);
        s.completed += c->completed.load(std::memory_order_relaxed);
        s.dropped += c->dropped.load(std::memory_order_relaxed);
        s.dead_lettered += c->dead_lettered.load(std::memory_order_relaxed);
        s.failed += c->failed.load(std::memory_order_relaxed);
        s.interrupted += c->interrupted.load(std::memory_order_relaxed);
        s.acked += c->acked.load(std::memory_order_relaxed);
        s.nacked += c->nacked.load(std::memory_order_relaxed);
        s.emitted += c->emitted.load(std::memory_order_relaxed);
        s.flush_failed += c->flush_failed.load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            s.stages[i].processed += c->processed[i].load(std::memory_order_relaxed);
            s.stages[i].errors += c->errors[i].load(std::memory_order_relaxed);
        }
    }
    s.acked += held_acked_.load(std::memory_order_relaxed);
    s.nacked += held_nacked_.load(std::memory_order_relaxed);
    s.held = held_.load(std::memory_order_relaxed);
    s.source_degraded = source_.degraded();
    return s;
}

}  // namespace detail

// Pipeline: the contract; the engine does the work.

Pipeline::Pipeline(std::string name, Graph graph, Source& source, PipelineOptions options)
    : engine_(std::make_unique<detail::PipelineEngine>(
          std::move(name), std::move(graph), source, options)) {}

Pipeline::~Pipeline() = default;

void Pipeline::start(Scope& parent) {
    engine_->start(parent);
}

const std::string& Pipeline::failed_to_open() const noexcept {
    return engine_->failed_to_open();
}

void Pipeline::request_stop() {
    engine_->request_stop();
}

void Pipeline::wait() {
    engine_->wait();
}

bool Pipeline::drain(std::chrono::nanoseconds timeout, std::chrono::nanoseconds report_every) {
    return engine_->drain(timeout, report_every);
}

bool Pipeline::workers_done(std::chrono::nanoseconds timeout) {
    return engine_->workers_done(timeout);
}

std::vector<std::string> Pipeline::busy_workers() const {
    return engine_->busy_workers();
}

PipelineStats Pipeline::stats() const {
    return engine_->stats();
}

const std::string& Pipeline::name() const noexcept {
    return engine_->name();
}

}  // namespace scopeflow
