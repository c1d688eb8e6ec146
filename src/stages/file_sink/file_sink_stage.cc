#include <filesystem>
#include <utility>

#include <scopeflow/error.h>
#include <scopeflow/event.h>
#include <scopeflow/event_json.h>
#include <scopeflow/scope.h>
#include <scopeflow/stages/file_sink_stage.h>

namespace scopeflow {

FileSinkStage::FileSinkStage(FileSinkOptions options)
    : Stage("file_sink"),
      options_(std::move(options)) {
    if (options_.prefix.empty() || options_.prefix.find('/') != std::string::npos) {
        throw ConfigError("file_sink.prefix",
                          "must be a plain file name prefix, got '" + options_.prefix + "'");
    }
    if (options_.max_bytes == 0) {
        throw ConfigError("file_sink.max_bytes", "must be at least 1");
    }
}

void FileSinkStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    // A missing directory is created (with its parents), so `check` and `run` agree on it.
    std::error_code ec;
    std::filesystem::create_directories(options_.directory, ec);
    if (ec) {
        throw ConfigError("file_sink.directory",
                          "cannot create directory '" + options_.directory + "': " + ec.message());
    }
    if (!std::filesystem::is_directory(options_.directory, ec)) {
        throw ConfigError("file_sink.directory",
                          "'" + options_.directory + "' exists and is not a directory");
    }
    slots_ = std::vector<Slot>(workers);
}

void FileSinkStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    slots_[worker_index].writer = &worker_scope.adopt(
        {"parts " + options_.prefix, ResourceKind::file},
        RotatingFileWriter({.directory = options_.directory,
                            .prefix = options_.prefix + "-w" + std::to_string(worker_index),
                            .max_bytes = options_.max_bytes,
                            .fsync = options_.fsync}));
}

ActionId FileSinkStage::on_process(Event& event, TaskContext& task) {
    Slot& slot = slots_[task.worker_index()];
    slot.line.clear();
    append_json(event, slot.line);
    slot.writer->append(slot.line);
    ++slot.written;
    return kActionDefault;
}

void FileSinkStage::on_end_batch(std::size_t worker_index) {
    slots_[worker_index].writer->flush();
}

void FileSinkStage::on_finish(Scope& /*stage_scope*/) {
    for (auto& slot : slots_) {
        slot.writer->close();  // publish the last part now, so a failure surfaces here
    }
}

std::uint64_t FileSinkStage::events_written() const {
    std::uint64_t n = 0;
    for (const auto& slot : slots_) {
        n += slot.written;
    }
    return n;
}

}  // namespace scopeflow
