// FileProcessorStage: the seed's FileProcessor. Each event is written to a temporary file, then
// published atomically (fsync + rename) as <directory>/<key>.json, and the event gets the
// published path in field `file`.
//
//   FileProcessorStage({.directory = "out/processed", .temp_directory = "out/tmp",
//                       .key_field = "id"})
//
// The temporary file belongs to the event's task scope: if anything fails before it is
// published (a write error, an injected fault at point "file_processor.write" or
// "file_processor.publish", a stop), it is removed, so a failing run leaves no temp file behind.
// With a FileBudget, each open file counts against it (waits, then fails naming the budget).
// A file is published before its event can be acked (never ack before publishing), so after a
// crash a leftover "processing-XXXXXX" belongs to an event that will be read again: open()
// removes them. With fsync: false a published file survives a process crash, not a power loss.
#pragma once

#include <string>

#include <scopeflow/engine/stage.h>

namespace scopeflow {

class FileBudget;

struct FileProcessorOptions {
    std::string directory;       // where processed files are published (must exist)
    std::string temp_directory;  // where they are written first (default: directory)
    std::string key_field = "id";
    bool fsync = false;            // fsync each file before publishing it
    FileBudget* budget = nullptr;  // optional open-file budget
};

class FileProcessorStage final : public Stage {
public:
    explicit FileProcessorStage(FileProcessorOptions options);

protected:
    void on_open(Scope& stage_scope, std::size_t workers) override;
    ActionId on_process(Event& event, TaskContext& task) override;

private:
    FileProcessorOptions options_;
};

}  // namespace scopeflow
