#include <fcntl.h>

#include <scopeflow/budget/buffered_writer.h>
#include <scopeflow/budget/open_file.h>
#include <scopeflow/core/error.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/stages/notify_stage.h>

namespace scopeflow {

struct NotifyStage::Worker {
    BufferedWriter writer;
    std::string line;
    void close() { writer.close(); }
};

NotifyStage::NotifyStage(NotifyOptions options)
    : Stage("notify"),
      options_(std::move(options)) {
    if (options_.path.empty()) {
        throw ConfigError("notify.path", "is required");
    }
}

NotifyStage::~NotifyStage() = default;

void NotifyStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    workers_.assign(workers, nullptr);
}

void NotifyStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    const std::string path = options_.path + ".w" + std::to_string(worker_index);
    OpenFile file = OpenFile::open(worker_scope, path, O_WRONLY | O_CREAT | O_APPEND);
    workers_[worker_index] = &worker_scope.adopt({"notification log", ResourceKind::file},
                                                 Worker{BufferedWriter(std::move(file)), {}});
}

ActionId NotifyStage::on_process(Event& event, TaskContext& task) {
    task.scope().fault_point("notify");
    Worker& w = *workers_[task.worker_index()];
    w.line = "notify ";
    w.line += options_.key_field;
    w.line += '=';
    if (const Value* v = event.find(options_.key_field); v != nullptr) {
        append_json(*v, w.line);
    }
    for (const auto& f : options_.fields) {
        if (const Value* v = event.find(f); v != nullptr) {
            w.line += ' ';
            w.line += f;
            w.line += '=';
            append_json(*v, w.line);
        }
    }
    w.line += '\n';
    w.writer.append(w.line);
    return kActionDefault;
}

void NotifyStage::on_end_batch(std::size_t worker_index) {
    workers_[worker_index]->writer.flush();
}

}  // namespace scopeflow
