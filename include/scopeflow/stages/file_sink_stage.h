// FileSinkStage: writes each event as one JSON line into rotating, atomically published files.
//
// One RotatingFileWriter per worker (held by the worker's scope, so it is released with it),
// parts named "<prefix>-w<worker>-<n>.jsonl". Each batch is flushed before its events are
// acked (Stage::end_batch); the fsync policy decides whether that survives power loss. A part
// appears under its final name only when complete: at rotation, at finish, or when the worker
// scope closes after a failure (what was flushed was acked, so it is published, not dropped).
// After a crash, when nothing could close the parts in progress, the next open() publishes them
// (RotatingFileWriter::recover: cut after the last complete line, fsync, rename), for every
// worker index, before any worker writes; it logs what it recovered.
//
// A full disk, an exhausted quota or no free descriptor does not fail events: the worker waits
// (backoff up to 1 s) and writes again, which holds the source back (backpressure), until the
// resource comes back; meanwhile degraded() names the error, so /readyz answers 503. A stop
// while waiting nacks the batch: the events are read again on restart.
//
//   g.add_stage("sink", std::make_unique<FileSinkStage>(FileSinkOptions{.directory = "out"}));
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <scopeflow/stages/rotating_file_writer.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

struct FileSinkOptions {
    std::string directory = ".";            // created (with parents) at open if missing
    std::string prefix = "events";          // parts: <prefix>-w<worker>-<n>.jsonl
    std::uint64_t max_bytes = 64ULL << 20;  // rotate at this size
    FsyncPolicy fsync = FsyncPolicy::on_rotate;
};

class FileSinkStage final : public Stage {
public:
    explicit FileSinkStage(FileSinkOptions options);

    [[nodiscard]] std::uint64_t events_written() const;
    [[nodiscard]] std::string degraded() const override;
    // What open() recovered from a crashed run.
    [[nodiscard]] const PartRecovery& recovered() const noexcept { return recovered_; }

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_flush_batch(BatchContext& batch) override;
    void on_finish(Scope& stage_scope) override;

private:
    // Runs `write` until it does not throw TransientError (disk full, no descriptor), waiting
    // between attempts; throws CancelledError if `stop` is requested while waiting.
    template <typename Write>
    void write_through_exhaustion(Write&& write, const std::stop_token& stop);
    void recover_leftovers();

    struct alignas(64) Slot {
        RotatingFileWriter* writer = nullptr;  // owned by the worker scope
        std::string line;                      // reused serialization buffer
        std::uint64_t written = 0;
    };

    const FileSinkOptions options_;
    std::vector<Slot> slots_;  // one per worker, touched only by that worker
    mutable std::mutex degraded_mu_;
    std::string degraded_;         // guarded by degraded_mu_
    std::atomic<int> waiting_{0};  // workers waiting for an exhausted resource
    PartRecovery recovered_;
};

}  // namespace scopeflow
