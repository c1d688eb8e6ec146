#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/engine/log.h>
#include <scopeflow/engine/node.h>
#include <scopeflow/core/scope.h>
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
    recover_leftovers();
}

void FileSinkStage::recover_leftovers() {
    // Parts a crashed run left in progress hold lines that may have been acked: publish them
    // before any worker writes, whatever worker (of any earlier worker count) wrote them.
    const std::string head = options_.prefix + "-w";
    const PartRecovery r =
        RotatingFileWriter::recover(options_.directory, [&head](std::string_view part_prefix) {
            if (!part_prefix.starts_with(head) || part_prefix.size() == head.size()) {
                return false;
            }
            return part_prefix.substr(head.size()).find_first_not_of("0123456789") ==
                   std::string_view::npos;
        });
    recovered_ = r;
    if (r.parts + r.empty_removed == 0) {
        return;
    }
    log(r.bytes_truncated > 0 ? LogLevel::warn : LogLevel::info,
        "file_sink '" + options_.directory + "/" + options_.prefix +
            "': recovered after a crash: " + std::to_string(r.parts) + " part(s) published (" +
            std::to_string(r.lines) + " line(s)), " + std::to_string(r.empty_removed) +
            " empty part(s) removed, " + std::to_string(r.bytes_truncated) +
            " byte(s) of incomplete lines cut off");
}

void FileSinkStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    slots_[worker_index].writer = &worker_scope.adopt(
        {"parts " + options_.prefix, ResourceKind::file},
        RotatingFileWriter({.directory = options_.directory,
                            .prefix = options_.prefix + "-w" + std::to_string(worker_index),
                            .max_bytes = options_.max_bytes,
                            .fsync = options_.fsync}));
}

template <typename Write>
void FileSinkStage::write_through_exhaustion(Write&& write, const std::stop_token& stop) {
    constexpr RetryPolicy kWait{.initial_backoff = std::chrono::milliseconds(10),
                                .max_backoff = std::chrono::seconds(1)};
    for (int attempt = 1;; ++attempt) {
        try {
            write();
            if (attempt > 1 && waiting_.fetch_sub(1) == 1) {
                const std::lock_guard lock(degraded_mu_);
                degraded_.clear();
            }
            return;
        } catch (const TransientError& e) {
            if (attempt == 1) {
                waiting_.fetch_add(1);
            }
            {
                const std::lock_guard lock(degraded_mu_);
                degraded_ = e.what();
            }
            if (!sleep_for(kWait.backoff(attempt + 1, 0.5), stop)) {
                if (waiting_.fetch_sub(1) == 1) {
                    const std::lock_guard lock(degraded_mu_);
                    degraded_.clear();
                }
                throw CancelledError("file_sink '" + options_.prefix +
                                     "': stopped while waiting to write: " + e.what());
            }
        }
    }
}

ActionId FileSinkStage::on_process(Event& event, TaskContext& task) {
    Slot& slot = slots_[task.worker_index()];
    slot.line.clear();
    append_json(event, slot.line);
    write_through_exhaustion([&] { slot.writer->append(slot.line); }, task.stop_token());
    ++slot.written;
    return kActionDefault;
}

void FileSinkStage::on_flush_batch(BatchContext& batch) {
    RotatingFileWriter& writer = *slots_[batch.worker_index()].writer;
    write_through_exhaustion([&] { writer.flush(); }, batch.stop_token());
}

std::string FileSinkStage::degraded() const {
    const std::lock_guard lock(degraded_mu_);
    return degraded_;
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
