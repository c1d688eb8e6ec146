#include "core/scope_node.h"

#include <algorithm>
#include <new>
#include <thread>
#include <utility>

#include <scopeflow/core/scope_guard.h>

#include "core/format_duration.h"
#include "core/format_site.h"

namespace scopeflow::detail {
namespace {

std::string site_string(const std::source_location& site) {
    return format_site(site.file_name(), site.line());
}

// Attaches the exception being handled to `primary` when primary is a scopeflow::Error.
// Returns false when it could not be attached.
bool attach_current_to(const std::exception_ptr& primary) {
    const std::exception_ptr current = std::current_exception();
    try {
        std::rethrow_exception(primary);
    } catch (Error& e) {
        e.add_suppressed(current);
        return true;
    } catch (...) {
        return false;
    }
}

// The close job this thread is running a cleanup for (null: none). A close() called from inside
// a cleanup is nested in this job: see CloseJob::enclosing.
thread_local const CloseJob* t_running_job = nullptr;

// Marks this thread as working for `job` until the returned guard goes.
[[nodiscard]] auto running(const CloseJob* job) noexcept {
    return ScopeGuard([saved = std::exchange(t_running_job, job)] { t_running_job = saved; });
}

}  // namespace

ScopeNode::ScopeNode(std::string name,
                     const ScopeOptions& options,
                     std::shared_ptr<ScopeNode> parent)
    : name_(std::move(name)),
      parent_(std::move(parent)),
      level_(options.level),
      monitor_(options.monitor != nullptr ? options.monitor : &ResourceMonitor::global()),
      faults_(options.faults),
      ledger_(options.track.value_or(true) ? &monitor_->ledger() : nullptr),
      close_timeout_(options.close_timeout) {}

ScopeNode::~ScopeNode() {
    // Handles always close their node; this is a safety net for a node that was created but
    // never handed out (make_child failing), which holds nothing.
    if (state_ != State::closed) {
        CloseJob job(false);
        job.nest_in(t_running_job);
        const auto running_job = running(&job);
        close_in(CloseWorker{&job, 0});
        for (const auto& f : job.failures) {
            monitor_->report({.kind = ReportKind::close_error,
                              .scope_path = f.scope_path,
                              .resource = f.resource,
                              .site = f.site,
                              .message = message_of(f.error)});
        }
    }
}

std::string ScopeNode::owner_path() const {
    std::vector<const std::string*> names;
    std::size_t length = 0;
    for (const ScopeNode* n = this; n != nullptr; n = n->parent_.get()) {
        names.push_back(&n->name_);
        length += n->name_.size() + 1;
    }
    std::string path;
    path.reserve(length);
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        if (!path.empty()) {
            path += '/';
        }
        path += **it;
    }
    return path;
}

std::shared_ptr<ScopeNode> ScopeNode::make_child(std::string name, const ScopeOptions& options) {
    ScopeOptions inherited = options;
    if (inherited.monitor == nullptr) {
        inherited.monitor = monitor_;
    }
    if (inherited.faults == nullptr) {
        inherited.faults = faults_;
    }
    if (!inherited.track.has_value()) {
        inherited.track = ledger_ != nullptr;
    }
    auto child = std::make_shared<ScopeNode>(std::move(name), inherited, shared_from_this());
    std::lock_guard lock(mu_);
    if (state_ != State::open) {
        throw ScopeClosedError("cannot open scope '" + child->name_ + "' inside '" + owner_path() +
                               "': it is closing");
    }
    children_.push_back(child);
    return child;
}

void ScopeNode::acquire_point(std::string_view name) {
    if (faults_ != nullptr) {
        faults_->hit(FaultPhase::acquire, name, stop_token());
    }
}

void* ScopeNode::adopt(const ResourceInfo& info,
                       const std::source_location& site,
                       const ResourceOps& ops,
                       void* source,
                       bool hit_fault_point) {
    // On any failure the offered resource is released here: adopt() took ownership of it.
    auto release_source_and_rethrow = [&](const std::exception_ptr& primary) {
        try {
            ops.dispose(source);
        } catch (...) {
            attach_current_to(primary);
        }
        std::rethrow_exception(primary);
    };
    if (hit_fault_point && faults_ != nullptr) {
        try {
            faults_->hit(FaultPhase::acquire, info.name, stop_token());
        } catch (...) {
            release_source_and_rethrow(std::current_exception());
        }
    }
    // Uncounted: close() releases every adopted entry itself (a stuck one becomes counted).
    const LedgerId id =
        ledger_ != nullptr ? ledger_->acquire(info, this, site, /*counted=*/false) : LedgerId{};
    {
        std::lock_guard lock(mu_);
        if (state_ == State::open) {
            Entry* e = nullptr;
            void* where = nullptr;
            bool heap = false;
            try {
                e = &entries_.push();
                heap = ops.size > Entry::kInlineSize || ops.align > alignof(std::max_align_t);
                where = heap ? ::operator new (ops.size, std::align_val_t{ops.align})
                             : static_cast<void*>(e->storage);
                try {
                    ops.move_construct(where, source);
                } catch (...) {
                    if (heap) {
                        ::operator delete (where, std::align_val_t{ops.align});
                    }
                    throw;
                }
            } catch (...) {
                if (e != nullptr) {
                    entries_.pop_unpushed();
                }
                if (id) {
                    ledger_->release(id);
                }
                // The resource was not moved: the caller's object still owns it.
                throw;
            }
            e->object = where;
            e->ops = &ops;
            e->ledger_id = id;
            e->site = site;
            e->name.assign(info.name);
            e->kind = info.kind;
            e->heap = heap;
            return where;
        }
    }
    if (id) {
        ledger_->release(id);
    }
    release_source_and_rethrow(std::make_exception_ptr(
        ScopeClosedError("scope '" + owner_path() + "' is closing: '" + std::string(info.name) +
                         "' was released instead of adopted")));
    return nullptr;  // unreachable
}

Ticket ScopeNode::track(const ResourceInfo& info, const std::source_location& site) {
    acquire_point(info.name);
    if (ledger_ == nullptr) {
        return Ticket{};
    }
    const LedgerId id = ledger_->acquire(info, this, site);
    bool open = false;
    {
        std::lock_guard lock(mu_);
        open = state_ == State::open;
    }
    if (!open) {
        ledger_->release(id);
        throw ScopeClosedError("scope '" + owner_path() + "' is closing: cannot track '" +
                               std::string(info.name) + "'");
    }
    return Ticket{ledger_, id};
}

std::vector<CleanupFailure> ScopeNode::close_collect(std::chrono::nanoseconds cleanup_timeout) {
    {
        // Already closed, or nested in a close that holds this scope (a cleanup closing its own
        // scope or an ancestor being closed): nothing to do, and waiting would never end.
        std::lock_guard lock(mu_);
        if (state_ == State::closed || (state_ == State::closing && t_running_job != nullptr &&
                                        t_running_job->within(closing_job_))) {
            return {};
        }
    }
    if (cleanup_timeout <= std::chrono::nanoseconds::zero()) {
        CloseJob job(false);
        job.nest_in(t_running_job);
        const auto running_job = running(&job);
        close_in(CloseWorker{&job, 0});
        return std::move(job.failures);
    }
    auto job = std::make_shared<CloseJob>(true);
    job->nest_in(t_running_job);
    auto self = shared_from_this();
    auto start_worker = [&job, &self](std::uint64_t generation) {
        std::thread([job, self, generation] {
            {
                const auto running_job = running(job.get());
                self->close_in(CloseWorker{job.get(), generation});
            }
            std::lock_guard lock(job->watch->mu);
            if (job->watch->generation == generation) {
                job->watch->done = true;
                job->watch->cv.notify_all();
            }
        }).detach();
    };
    try {
        start_worker(0);
    } catch (const std::system_error&) {
        // No thread to spare (resource exhaustion): close inline, unwatched, rather than not at
        // all.
        CloseJob inline_job(false);
        inline_job.nest_in(t_running_job);
        const auto running_job = running(&inline_job);
        close_in(CloseWorker{&inline_job, 0});
        return std::move(inline_job.failures);
    }
    CloseJob::Watch& w = *job->watch;
    std::unique_lock lock(w.mu);
    while (!w.done) {
        const std::uint64_t seq = w.step_seq;
        if (!w.step_active) {
            w.cv.wait(lock, [&] { return w.done || w.step_seq != seq || w.step_active; });
            continue;
        }
        const auto deadline = w.step.started + cleanup_timeout;
        if (w.cv.wait_until(lock, deadline,
                            [&] { return w.done || w.step_seq != seq || !w.step_active; })) {
            continue;
        }
        // The current cleanup overran: report it, abandon its worker, go on with a new one.
        const CloseJob::Step step = w.step;
        const auto elapsed = std::chrono::steady_clock::now() - step.started;
        ++w.generation;
        w.step_active = false;
        const std::uint64_t generation = w.generation;
        std::string message = "release of '" + step.resource + "' still running after " +
                              format_duration(elapsed) + " (deadline " +
                              format_duration(cleanup_timeout) + "); abandoned on its thread";
        job->failures.push_back(
            {.scope_path = step.scope_path,
             .resource = step.resource,
             .site = step.site,
             .error = std::make_exception_ptr(StuckError(step.scope_path + ": " + message)),
             .stuck = true,
             .elapsed = elapsed});
        lock.unlock();
        if (ledger_ != nullptr) {
            ledger_->mark_stuck(step.ledger_id);
        }
        monitor_->report({.kind = ReportKind::stuck,
                          .scope_path = step.scope_path,
                          .resource = step.resource,
                          .resource_kind = step.kind,
                          .site = step.site,
                          .message = message,
                          .elapsed = elapsed});
        try {
            start_worker(generation);
        } catch (const std::system_error&) {
            lock.lock();
            job->failures.push_back({.scope_path = owner_path(),
                                     .resource = "<rest of close>",
                                     .error = std::current_exception()});
            break;  // cannot go on: the remaining resources stay live and show in the ledger
        }
        lock.lock();
    }
    return std::move(job->failures);
}

bool ScopeNode::close_in(const CloseWorker& worker) {
    // A watched worker may be abandoned mid-cleanup: it must keep this node alive on its own.
    const std::shared_ptr<ScopeNode> self = worker.job->watched ? shared_from_this() : nullptr;
    std::optional<std::stop_source> stop;
    bool has_children = false;
    {
        std::unique_lock lock(mu_);
        if (state_ == State::closed) {
            return true;
        }
        if (state_ == State::closing && closing_job_ != worker.job) {
            if (worker.job->within(closing_job_)) {
                return false;  // held by a close this one is nested in: that close finishes it
            }
            closed_cv_.wait(lock, [this] { return state_ == State::closed; });
            return true;
        }
        // From here on adopt(), child() and track() refuse: entries_ can only shrink, and only
        // by this job's workers.
        state_ = State::closing;
        closing_job_ = worker.job;
        stop = stop_source_;
        has_children = !children_.empty();
    }
    if (stop) {
        stop->request_stop();
    }
    // Children first, newest first; each removes itself when closed. A child skipped because an
    // enclosing close holds it stays listed until that close finishes it.
    std::vector<const ScopeNode*> skipped;
    while (has_children) {
        std::shared_ptr<ScopeNode> child;
        {
            std::lock_guard lock(mu_);
            for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
                if (std::find(skipped.begin(), skipped.end(), it->get()) == skipped.end()) {
                    child = *it;
                    break;
                }
            }
        }
        if (child == nullptr) {
            break;
        }
        if (!child->close_in(worker)) {
            skipped.push_back(child.get());
        }
        if (worker.abandoned()) {
            return true;
        }
    }
    // Then own resources, newest first. A watched job may hand the rest to another worker, so
    // its workers pop under the lock; an unwatched job has one worker and walks the stack alone.
    for (;;) {
        Entry* e = nullptr;
        if (worker.job->watched) {
            std::lock_guard lock(mu_);
            e = entries_.pop();
        } else {
            e = entries_.pop();  // single worker, stack frozen: see above
        }
        if (e == nullptr) {
            break;
        }
        release_entry(*e, worker);
        if (worker.abandoned()) {
            return true;
        }
    }
    finish_close();
    return true;
}

void ScopeNode::release_entry(Entry& e, const CloseWorker& worker) {
    CloseJob& job = *worker.job;
    std::chrono::steady_clock::time_point started;
    if (job.watched) {
        started = std::chrono::steady_clock::now();
        std::lock_guard lock(job.watch->mu);
        ++job.watch->step_seq;
        job.watch->step_active = true;
        job.watch->step = {owner_path(), e.name, site_string(e.site), e.kind, e.ledger_id, started};
        job.watch->cv.notify_all();
    }
    std::exception_ptr errors[2];
    if (faults_ != nullptr) {
        try {
            faults_->hit(FaultPhase::release, e.name);
        } catch (...) {
            errors[0] = std::current_exception();
        }
    }
    try {
        e.ops->close(e.object);
    } catch (...) {
        errors[1] = std::current_exception();
    }
    e.ops->destroy(e.object);
    if (e.heap) {
        ::operator delete (e.object, std::align_val_t{e.ops->align});
    }
    e.object = nullptr;
    bool abandoned = false;
    if (job.watched) {
        std::lock_guard lock(job.watch->mu);
        abandoned = job.watch->generation != worker.generation;
        if (!abandoned) {
            job.watch->step_active = false;
            job.watch->cv.notify_all();
        }
    }
    for (const auto& err : errors) {
        if (!err) {
            continue;
        }
        if (abandoned) {  // the close that owned this failure has moved on: report it instead
            monitor_->report({.kind = ReportKind::close_error,
                              .scope_path = owner_path(),
                              .resource = e.name,
                              .resource_kind = e.kind,
                              .site = site_string(e.site),
                              .message = message_of(err) + " (after being abandoned)"});
        } else {
            job.add_failure({.scope_path = owner_path(),
                             .resource = e.name,
                             .site = site_string(e.site),
                             .error = err});
        }
    }
    if (abandoned) {
        monitor_->report({.kind = ReportKind::late_release,
                          .scope_path = owner_path(),
                          .resource = e.name,
                          .resource_kind = e.kind,
                          .site = site_string(e.site),
                          .message = "abandoned cleanup finished",
                          .elapsed = std::chrono::steady_clock::now() - started});
    }
    // Last: once the ledger shows the entry gone, this worker touches no monitor or ledger again.
    // An abandoned cleanup reported its late release above: the ledger must not report it again.
    if (ledger_ != nullptr) {
        ledger_->release(e.ledger_id, /*notify_orphan=*/!abandoned);
    }
}

void ScopeNode::finish_close() {
    {
        std::lock_guard lock(mu_);
        state_ = State::closed;  // from here on track()/adopt() fail, so the scan below is final
        closing_job_ = nullptr;
        closed_.store(true, std::memory_order_release);
    }
    if (ledger_ != nullptr && live_entries() > 0) {
        for (const LedgerEntry& leaked : ledger_->orphan(*this, monitor_)) {
            monitor_->report({.kind = ReportKind::leak,
                              .scope_path = leaked.owner_path,
                              .resource = leaked.name,
                              .resource_kind = leaked.kind,
                              .site = leaked.site,
                              .message = leaked.stuck ? "still held by a stuck cleanup"
                                                      : "still held when its owner closed",
                              .elapsed = leaked.age});
        }
    }
    if (parent_ != nullptr) {
        parent_->remove_child(this);
    }
    closed_cv_.notify_all();
}

void ScopeNode::remove_child(const ScopeNode* child) noexcept {
    std::lock_guard lock(mu_);
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
        if (it->get() == child) {
            children_.erase(std::next(it).base());
            return;
        }
    }
}

void ScopeNode::request_stop() {
    std::optional<std::stop_source> source;
    {
        std::lock_guard lock(mu_);
        source = stop_source_;
    }
    if (source) {
        source->request_stop();
    }
}

std::stop_token ScopeNode::stop_token() {
    {
        std::lock_guard lock(mu_);
        if (stop_source_) {
            return stop_source_->get_token();
        }
    }
    const std::stop_token parent_token = parent_ ? parent_->stop_token() : std::stop_token{};
    std::lock_guard lock(mu_);
    if (!stop_source_) {
        stop_source_.emplace();
        if (state_ != State::open) {
            stop_source_->request_stop();
        } else if (parent_token.stop_possible()) {
            // Runs at once (on this thread) if the parent is already stopped.
            parent_link_.emplace(parent_token, StopForward{&*stop_source_});
        }
    }
    return stop_source_->get_token();
}

bool ScopeNode::closed() const {
    return closed_.load(std::memory_order_acquire);
}

std::size_t ScopeNode::resource_count() const {
    std::lock_guard lock(mu_);
    return entries_.size();
}

}  // namespace scopeflow::detail
