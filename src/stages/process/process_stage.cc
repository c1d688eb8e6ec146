#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include <scopeflow/process/child_process.h>
#include <scopeflow/core/error.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/process/line_channel.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/stages/process_stage.h>

namespace scopeflow {

// One worker's child. Adopted into the worker scope, so close() (the child's EOF, SIGTERM,
// SIGKILL and reap) runs when the worker scope closes.
struct ProcessStage::Worker {
    Worker(Scope& scope, const ProcessStageOptions& options, std::atomic<int>* pid)
        : scope_(&scope),
          options_(&options),
          pid_(pid) {}
    Worker(Worker&& other) noexcept
        : scope_(other.scope_),
          options_(other.options_),
          child_(std::move(other.child_)),
          ticket_(std::move(other.ticket_)),
          pid_(other.pid_) {
        other.channel_.reset();
        if (child_) {
            channel_.emplace(*child_);  // a channel borrows the child's fds: make a new one
        }
    }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    Worker& operator=(Worker&&) = delete;
    ~Worker() = default;

    void close() { retire(); }

    // Spawns a child if there is none. Runs on the worker thread.
    void ensure_child() {
        if (child_) {
            return;
        }
        child_.emplace(ChildProcess::spawn({.argv = options_->argv,
                                            .env_add = options_->env_add,
                                            .env_pass = options_->env_pass,
                                            .terminate_grace = options_->terminate_grace,
                                            .eof_grace = std::chrono::milliseconds(200),
                                            .monitor = &scope_->monitor()}));
        channel_.emplace(*child_);
        ticket_ = scope_->track({options_->argv.front(), ResourceKind::process});
        pid_->store(child_->pid());
    }

    // Closes and reaps the current child, returning how it ended.
    std::optional<ExitStatus> retire() {
        std::optional<ExitStatus> status;
        channel_.reset();
        if (child_) {
            try {
                status = child_->close();
            } catch (...) {
                child_.reset();  // the destructor reaps, whatever happened
            }
            child_.reset();
        }
        ticket_.release();
        pid_->store(0);
        return status;
    }

    Scope* scope_;
    const ProcessStageOptions* options_;
    std::optional<ChildProcess> child_;
    std::optional<LineChannel> channel_;
    Ticket ticket_;
    std::atomic<int>* pid_;  // the stage's slot for this worker: outlives the worker scope
    std::string line_;
    EventParser parser_;
};

ProcessStage::ProcessStage(ProcessStageOptions options)
    : Stage("process"),
      options_(std::move(options)) {
    if (options_.argv.empty() || options_.argv.front().empty()) {
        throw ConfigError("process.argv", "needs a program to run");
    }
    if (options_.timeout.count() <= 0) {
        throw ConfigError("process.timeout", "must be positive");
    }
}

ProcessStage::~ProcessStage() = default;

void ProcessStage::on_open(Scope& /*stage_scope*/, std::size_t workers) {
    workers_.assign(workers, nullptr);
    pids_ = std::make_unique<std::atomic<int>[]>(workers);
    pid_count_ = workers;
}

void ProcessStage::on_open_worker(Scope& worker_scope, std::size_t worker_index) {
    workers_[worker_index] =
        &worker_scope.adopt({"child process slot", ResourceKind::other},
                            Worker(worker_scope, options_, &pids_[worker_index]));
}

ActionId ProcessStage::on_process(Event& event, TaskContext& task) {
    Worker& w = *workers_[task.worker_index()];
    std::string failure;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!w.child_) {
            w.ensure_child();
            spawned_.fetch_add(1, std::memory_order_relaxed);
        }
        try {
            w.line_.clear();
            append_json(event, w.line_);
            w.channel_->write_line(w.line_, options_.timeout);
            std::optional<std::string> reply = w.channel_->read_line(options_.timeout);
            if (!reply) {
                throw TransientError(w.channel_->eof() ? "the child closed its output"
                                                       : "no reply within the timeout");
            }
            thread_local Event decoded;
            if (const ParseStatus st = w.parser_.parse(*reply, decoded); !st) {
                throw TransientError("the child answered something that is not a JSON object: " +
                                     st.message);
            }
            const auto meta = event.meta();
            event = decoded;
            event.meta() = meta;
            return kActionDefault;
        } catch (const std::exception& e) {
            failure = e.what();
        }
        // The child is broken: reap it, say so, and let the next attempt start a new one.
        const int pid = w.pid_->load();
        const std::optional<ExitStatus> status = w.retire();
        replaced_.fetch_add(1, std::memory_order_relaxed);
        w.scope_->monitor().report(
            {.kind = ReportKind::close_error,
             .scope_path = w.scope_->path(),
             .resource = options_.argv.front(),
             .resource_kind = ResourceKind::process,
             .message = "child " + std::to_string(pid) + " replaced: " + failure +
                        (status ? " (" + status->describe() + ")" : std::string())});
    }
    throw TransientError("process stage '" + options_.argv.front() + "': " + failure);
}

std::uint64_t ProcessStage::spawned() const noexcept {
    return spawned_.load(std::memory_order_relaxed);
}

std::uint64_t ProcessStage::replaced() const noexcept {
    return replaced_.load(std::memory_order_relaxed);
}

std::vector<int> ProcessStage::child_pids() const {
    std::vector<int> pids;
    for (std::size_t i = 0; i < pid_count_; ++i) {
        pids.push_back(pids_[i].load());
    }
    return pids;
}

}  // namespace scopeflow
