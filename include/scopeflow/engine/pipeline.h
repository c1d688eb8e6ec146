// Pipeline: runs a validated Graph over a Source with N worker threads.
//
// Execution is run-to-completion: a worker reads a batch from the source and carries each event
// through the whole graph (every branch) on its own thread before acking it. There are no
// queues between stages, so there is nothing to overflow and backpressure reaches the source by
// construction: a worker reads again only when its batch is done.
//
// Ordering: events of one batch are processed in source order by one worker; batches run on
// different workers concurrently, so across batches there is no order. With workers = 1 the
// whole pipeline preserves source order.
//
// Scopes (all children of the scope given to start()):
//
//   <name>                      pipeline scope
//     source                    what the source opened
//     <stage>                   one per stage, opened in graph order (Stage::open)
//       worker-<i>              one per stage and worker (Stage::open_worker)
//     worker-<i>                one per worker thread
//       event-<sequence>        the task scope of one event, only if a stage asked for it
//
// Acks: after a worker's batch, every stage's end_batch() runs (sinks flush there), then each
// event of the batch is acked, or nacked if a branch failed with nowhere to go or a flush
// failed. An acked event is as durable as the stages' flush policies make it.
//
// Failures at the end of a batch: a stage's end_batch() may fail single events it had accepted
// (BatchContext::fail). Once every stage's end_batch has run, each failed event goes to the
// dead-letter stage (`_error`, `_failed_stage` set, as for a failure in process()); then the
// dead-letter stage and the stages after it get one more end_batch, so what they wrote is
// flushed too, and only then is the batch acked. A failed event with nowhere to go (no
// dead-letter stage, it failed there too, or the stage used BatchContext::nack) nacks its
// source event, and then the acks the batch's stages took over (ack_with_batch) are nacked as
// well: what failed may be an aggregate of theirs. A throw from any end_batch nacks the whole
// batch (events failed through the context included), but every stage still gets its
// end_batch, so no stage carries a stale buffer into the next batch.
//
// Shutdown: request_stop() closes the intake gate; workers finish the batch they hold, so no
// event that was read is lost. wait() then joins the workers, runs Stage::finish in graph order
// (skipped if a worker failed fatally), commits the source, and closes the pipeline scope:
// worker scopes, stages in reverse order, the source. A start() that fails part-way closes
// what it opened and rethrows.
//
//   scopeflow::Pipeline p("orders", std::move(graph), source, {.workers = 4});
//   p.start(service_scope);
//   ...                        // on SIGTERM: p.request_stop();
//   p.wait();
//   auto s = p.stats();        // read == completed + dropped + dead_lettered + failed
//                              //         + interrupted
//                              // (linear graphs; fan-out and emitted events add branches)
//
// Failures are logged (scopeflow/engine/log.h) with the pipeline, the stage, the kind and the reason:
// dead-lettered at warn, nacked with nowhere to go at error, interrupted by a stop at info. The
// first of each (stage, kind, outcome) is logged at once, then at most one line per 10 s with
// the count held back (LogLimiter), and the rest when the run ends.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <scopeflow/engine/gate.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/log_limiter.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/source.h>
#include <scopeflow/core/ticket.h>

namespace scopeflow {

struct PipelineOptions {
    std::size_t workers = 2;      // worker threads
    std::size_t batch_size = 64;  // events a worker takes from the source at a time
    // Per-cleanup deadline when the pipeline and stage scopes close (see Scope).
    std::chrono::nanoseconds close_timeout = std::chrono::seconds(10);
};

struct StageStats {
    std::string name;
    std::uint64_t processed = 0;  // process() calls
    std::uint64_t errors = 0;     // error actions, thrown or returned
    std::string degraded;         // Stage::degraded(): why it cannot make progress now
};

struct PipelineStats {
    std::uint64_t read = 0;           // events taken from the source
    std::uint64_t completed = 0;      // branches that reached a sink
    std::uint64_t dropped = 0;        // branches a stage dropped (filtered)
    std::uint64_t dead_lettered = 0;  // branches that reached the end of the dead-letter stage
    std::uint64_t failed = 0;         // branches that failed with nowhere to go
    // Branches a stop interrupted: a CancelledError (or ScopeClosedError) from process(), a
    // TransientError once the stop was requested, BatchContext::nack. Their events are nacked,
    // so the source offers them again; a stop is never a failure of the event.
    std::uint64_t interrupted = 0;
    std::uint64_t acked = 0;    // events acked to the source
    std::uint64_t nacked = 0;   // events nacked to the source
    std::uint64_t emitted = 0;  // events stages created with TaskContext::emit
    std::uint64_t held = 0;     // acks stages took over with TaskContext::hold_ack
    // Events stages failed or nacked from end_batch (BatchContext). Each is counted out of where
    // its branch had ended (completed at the stage, or wherever it ended further down if the
    // stage passed it on) and counted where its failure path ended (dead_lettered or failed),
    // so the totals above still add up. Also counted in that stage's StageStats::errors.
    std::uint64_t flush_failed = 0;
    std::vector<StageStats> stages;
    std::string source_degraded;  // Source::degraded()
};

class Pipeline final : private detail::AckTarget {
public:
    Pipeline(std::string name, Graph graph, Source& source, PipelineOptions options = {});
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    ~Pipeline();  // stops, waits and closes; never throws (failures go to the monitor)

    void start(Scope& parent);
    // After start() threw: what was opening when it failed, "source" or "graph.stages.<name>"
    // (the path a config file gives it); empty when the failure came before or after the opens.
    [[nodiscard]] const std::string& failed_to_open() const noexcept { return opening_; }
    void request_stop();
    void wait();

    // Graceful shutdown with a deadline: requests stop, then waits for the workers to finish
    // the batches they hold. Every `report_every` it reports to the monitor, as `stuck`, each
    // worker still busy (stage, event, for how long). Returns true once drained (then call
    // wait() to finish and close); false at the deadline: the caller forces (a service exits,
    // since a thread cannot be killed safely).
    bool drain(std::chrono::nanoseconds timeout,
               std::chrono::nanoseconds report_every = std::chrono::seconds(2));

    // Waits up to `timeout` (zero: just looks) for every worker to have ended: input exhausted,
    // a fatal error, or a stop. Then wait() no longer blocks on workers. For a supervising loop
    // that also watches signals; call it from the thread that calls drain() and wait().
    [[nodiscard]] bool workers_done(std::chrono::nanoseconds timeout = {});

    // What each worker is doing right now, for reports: "worker-1: stage 'enrich', event 42
    // (in flight for 3.2s)". Idle workers are omitted.
    [[nodiscard]] std::vector<std::string> busy_workers() const;
    void run(Scope& parent) {
        start(parent);
        wait();
    }

    [[nodiscard]] PipelineStats stats() const;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    struct Counters;
    struct Branch;
    // Where a branch of the batch ended and how it was counted, kept for the batch so that a
    // stage failing the event from end_batch can count it out again.
    enum class EndKind : std::uint8_t { completed, dead_lettered, dropped, failed, interrupted };
    enum class FailureOutcome : std::uint8_t {
        dead_lettered,       // warn
        failed,              // error: no dead-letter stage
        failed_dead_letter,  // error: failed on the dead-letter path
        interrupted,         // info: a stop interrupted it; nacked
        batch,               // error: an end_batch threw; the whole batch nacked
    };
    struct BranchEnd {
        std::uint64_t sequence = 0;
        std::uint32_t node = 0;
        EndKind kind = EndKind::completed;
        bool dead_letter = false;  // on its way through the dead-letter stage
        bool taken = false;        // counted out already by a failure
    };
    // What became of the events of a batch; failures are rare, so their reasons live apart.
    struct BatchOutcomes {
        std::vector<std::uint64_t> sequences;  // every event read, in order
        std::vector<std::uint64_t> acked;
        std::vector<std::uint64_t> held;  // a stage took over the ack (settled by its hold)
        std::vector<std::pair<std::uint64_t, std::string>> failed;
        std::vector<BranchEnd> ends;
        void clear() {
            sequences.clear();
            acked.clear();
            held.clear();
            failed.clear();
            ends.clear();
        }
    };
    // What a round of end_batch calls threw; reason is "stage 'a': ...; stage 'b': ...".
    struct FlushErrors {
        std::vector<std::exception_ptr> errors;
        std::string reason;
    };

    void worker_main(std::size_t index, const std::stop_token& stop);
    void settle_held(std::uint64_t sequence, bool ok, std::string_view reason) override;
    // Carries one event through the graph; records it as acked or failed in `outcomes`.
    void run_event(Event& event,
                   TaskContext& task,
                   Counters& counters,
                   std::vector<Branch>& work,
                   BatchOutcomes& outcomes);
    void settle_batch(BatchOutcomes& outcomes,
                      Counters& counters,
                      TaskContext& task,
                      BatchContext& batch,
                      std::vector<Branch>& work);
    // Calls end_batch of each stage of `nodes`, all of them whatever throws; collects the throws.
    void end_batches(BatchContext& batch,
                     const std::vector<std::uint32_t>& nodes,
                     FlushErrors& errors);
    // Takes the events failed through `batch` along their failure path (the dead-letter stage,
    // then its second end_batch); appends the source events to nack to `nacks`. Returns what the
    // second end_batch threw (then the whole batch fails).
    FlushErrors fail_events(BatchContext& batch,
                            BatchOutcomes& outcomes,
                            Counters& counters,
                            TaskContext& task,
                            std::vector<Branch>& work,
                            std::vector<std::pair<std::uint64_t, std::string>>& nacks);
    // Counts a failed event out of where its branch ended: at `node` (the stage was its sink),
    // else at a stage `node` routes to (the stage had passed it on). Returns whether that branch
    // was on its way through the dead-letter stage, or nullopt if no such branch is left.
    std::optional<bool> take_end(std::vector<BranchEnd>& ends,
                                 std::uint64_t sequence,
                                 std::uint32_t node,
                                 Counters& counters);
    // Runs the branches in `work` to their ends, recording sink ends in `ends`; returns the
    // failure of one that failed with nowhere to go, if any.
    std::optional<std::string> walk(TaskContext& task,
                                    Counters& counters,
                                    std::vector<Branch>& work,
                                    std::vector<BranchEnd>& ends);
    void push_emitted(std::uint32_t from,
                      std::uint32_t hops,
                      bool dead_letter,
                      TaskContext& task,
                      Counters& counters,
                      std::vector<Branch>& work,
                      std::vector<BranchEnd>& ends);
    // After the input is exhausted: Stage::flush in graph order, walking what they emit.
    void flush_stages();
    // Logs a failure through failure_log_: the first of each (stage, kind, outcome) at once,
    // then at most one line per interval with the count (see LogLimiter).
    void report_failure(std::string_view stage,
                        FailureOutcome outcome,
                        std::string_view kind,
                        std::string_view reason);
    // Logs the counts failure_log_ holds back (all of them at the end of the run).
    void log_owed_failures(bool all);
    // True when the pipeline is stopping and every error is one a stop explains.
    [[nodiscard]] bool stopping(const FlushErrors& errors) const;

    std::string name_;
    Graph graph_;
    Source& source_;
    const PipelineOptions options_;

    // Scope handles; closing the pipeline scope closes them all, in order (see above).
    std::optional<Scope> scope_;
    std::optional<Scope> source_scope_;
    // Deques: stages keep references to the scopes they were opened with; these never move.
    std::deque<Scope> stage_scopes_;                   // graph order
    std::deque<Scope> stage_worker_scopes_;            // stage-major: [stage * workers + worker]
    std::deque<Scope> worker_scopes_;                  // per worker thread: task scopes hang here
    std::vector<std::unique_ptr<Counters>> counters_;  // per worker, written only by it
    std::vector<std::uint32_t> all_nodes_;             // 0..n-1: every stage, graph order
    std::vector<std::uint32_t> dead_letter_reach_;     // the dead-letter stage and what it reaches
    std::vector<std::uint8_t> reaches_;  // [from * n + to]: `to` is `from` or routed to from it
    Gate gate_;
    LogLimiter failure_log_{std::chrono::seconds(10)};
    std::stop_source stop_;
    std::latch go_{1};  // opened once start() has fully succeeded
    std::mutex held_mu_;
    std::set<std::uint64_t> held_failed_;  // guarded by held_mu_: nacked already, ignore settle
    std::atomic<std::uint64_t> held_{0};
    std::atomic<bool> input_exhausted_{false};
    std::atomic<std::uint64_t> held_acked_{0};
    std::atomic<std::uint64_t> held_nacked_{0};
    std::mutex done_mu_;
    std::condition_variable done_cv_;
    std::size_t workers_running_ = 0;  // guarded by done_mu_
    std::mutex fatal_mu_;
    std::exception_ptr fatal_;  // guarded by fatal_mu_: a worker's unrecoverable failure
    std::vector<Ticket> thread_tickets_;
    bool started_ = false;
    bool waited_ = false;
    std::string opening_;  // set by start() while it opens the source and the stages
    // Declared last: joined first on destruction, before anything they use goes away.
    std::vector<std::jthread> threads_;
};

}  // namespace scopeflow
