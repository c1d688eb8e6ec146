// PipelineEngine: the machinery behind Pipeline (pipeline.h holds the contract): the worker
// threads, the walk of an event through the graph, the settling of a batch, the counters.
// Private to the engine; TaskContext and BatchContext open their engine-side members to it.
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

#include <scopeflow/core/scope.h>
#include <scopeflow/core/ticket.h>
#include <scopeflow/engine/gate.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/log_limiter.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/engine/source.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow::detail {

class PipelineEngine final : private AckTarget {
public:
    PipelineEngine(std::string name, Graph graph, Source& source, PipelineOptions options);
    PipelineEngine(const PipelineEngine&) = delete;
    PipelineEngine& operator=(const PipelineEngine&) = delete;
    ~PipelineEngine();

    // The operations of Pipeline, with its contract (see pipeline.h).
    void start(Scope& parent);
    [[nodiscard]] const std::string& failed_to_open() const noexcept { return opening_; }
    void request_stop();
    void wait();
    bool drain(std::chrono::nanoseconds timeout, std::chrono::nanoseconds report_every);
    [[nodiscard]] bool workers_done(std::chrono::nanoseconds timeout);
    [[nodiscard]] std::vector<std::string> busy_workers() const;
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

}  // namespace scopeflow::detail
