// ProcessStage: runs each event through an external program, one child process per worker.
//
// Protocol: the stage writes the event as one JSON line on the child's stdin and reads one JSON
// object line back from its stdout, which replaces the event's fields. Children are spawned
// without a shell, lazily, on the worker thread that uses them (so die-with-parent follows the
// right thread), and are owned by the worker's scope: closed (EOF, SIGTERM, then SIGKILL after
// the grace) and reaped when the pipeline closes.
//
// A child that crashes, hangs past `timeout` or answers garbage is reaped, reported to the
// monitor and replaced; the event is then tried once more on the fresh child, and takes the
// error action if that fails too.
//
//   ProcessStage({.argv = {"python3", "enrich.py"}, .timeout = 2s})
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct ProcessStageOptions {
    std::vector<std::string> argv;  // the program and its arguments
    // The child's environment is clean (ChildProcess: PATH, LANG, LC_ALL, TZ when set) plus:
    std::vector<std::string> env_add;                 // "K=V" added to the environment
    std::vector<std::string> env_pass;                // names passed on from the service's
    std::chrono::milliseconds timeout{5000};          // per event, write plus reply
    std::chrono::milliseconds terminate_grace{2000};  // on close: SIGTERM, then SIGKILL after this
};

class ProcessStage final : public Stage {
public:
    explicit ProcessStage(ProcessStageOptions options);
    ~ProcessStage() override;

    // Children spawned so far (first spawns and replacements) and replacements alone.
    [[nodiscard]] std::uint64_t spawned() const noexcept;
    [[nodiscard]] std::uint64_t replaced() const noexcept;
    // The live child's pid per worker (0 if none yet), for operators and tests.
    [[nodiscard]] std::vector<int> child_pids() const;

    struct Worker;

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    const ProcessStageOptions options_;
    std::vector<Worker*> workers_;  // owned by the worker scopes: valid while they are open
    std::unique_ptr<std::atomic<int>[]> pids_;  // per worker; outlives the worker scopes
    std::size_t pid_count_ = 0;
    std::atomic<std::uint64_t> spawned_{0};
    std::atomic<std::uint64_t> replaced_{0};
};

}  // namespace scopeflow
