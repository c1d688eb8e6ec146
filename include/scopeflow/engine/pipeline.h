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

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/source.h>

namespace scopeflow {

namespace detail {
class PipelineEngine;
}  // namespace detail

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

class Pipeline final {
public:
    Pipeline(std::string name, Graph graph, Source& source, PipelineOptions options = {});
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    ~Pipeline();  // stops, waits and closes; never throws (failures go to the monitor)

    void start(Scope& parent);
    // After start() threw: what was opening when it failed, "source" or "graph.stages.<name>"
    // (the path a config file gives it); empty when the failure came before or after the opens.
    [[nodiscard]] const std::string& failed_to_open() const noexcept;
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
    [[nodiscard]] const std::string& name() const noexcept;

private:
    // The machinery (worker threads, batch settling, counters) lives in src/engine.
    std::unique_ptr<detail::PipelineEngine> engine_;
};

}  // namespace scopeflow
