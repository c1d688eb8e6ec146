// FileSinkStage: writes each event as one JSON line into rotating, atomically published files.
//
// One RotatingFileWriter per worker (held by the worker's scope, so it is released with it),
// parts named "<prefix>-w<worker>-<n>.jsonl". Each batch is flushed before its events are
// acked (Stage::end_batch); the fsync policy decides whether that survives power loss. A part
// appears under its final name only when complete: at rotation, at finish, or when the worker
// scope closes after a failure (what was flushed was acked, so it is published, not dropped).
//
//   g.add_stage("sink", std::make_unique<FileSinkStage>(FileSinkOptions{.directory = "out"}));
#pragma once

#include <memory>
#include <vector>

#include <scopeflow/rotating_file_writer.h>
#include <scopeflow/stage.h>

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

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    void on_open_worker(Scope& worker_scope, std::size_t worker_index) override;
    ActionId on_process(Event& event, TaskContext& task) override;
    void on_end_batch(std::size_t worker_index) override;
    void on_finish(Scope& stage_scope) override;

private:
    struct alignas(64) Slot {
        RotatingFileWriter* writer = nullptr;  // owned by the worker scope
        std::string line;                      // reused serialization buffer
        std::uint64_t written = 0;
    };

    const FileSinkOptions options_;
    std::vector<Slot> slots_;  // one per worker, touched only by that worker
};

}  // namespace scopeflow
