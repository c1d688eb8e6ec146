#include <utility>

#include <scopeflow/core/error.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/work_scope.h>

namespace scopeflow {

WorkScope::WorkScope(std::string name,
                     UniqueFunction<void()> on_commit,
                     UniqueFunction<void()> on_rollback,
                     ResourceMonitor* monitor)
    : name_(std::move(name)),
      on_commit_(std::move(on_commit)),
      on_rollback_(std::move(on_rollback)),
      monitor_(monitor) {}

WorkScope::~WorkScope() {
    if (state_ != State::open) {
        return;
    }
    try {
        rollback();
    } catch (...) {
        ResourceMonitor& m = monitor_ != nullptr ? *monitor_ : ResourceMonitor::global();
        m.report({.kind = ReportKind::close_error,
                  .resource = name_,
                  .message = "rollback failed: " + message_of(std::current_exception())});
    }
}

void WorkScope::commit() {
    if (state_ != State::open) {
        throw Error("work scope '" + name_ + "' is already " +
                    (state_ == State::committed ? "committed" : "rolled back"));
    }
    try {
        if (on_commit_) {
            on_commit_();
        }
    } catch (...) {
        const std::exception_ptr commit_error = std::current_exception();
        try {
            rollback();
        } catch (...) {
            const std::exception_ptr rollback_error = std::current_exception();
            try {
                std::rethrow_exception(commit_error);
            } catch (Error& e) {
                e.add_suppressed(rollback_error);
            } catch (...) {  // NOLINT(bugprone-empty-catch): foreign type; the commit error wins
            }
        }
        std::rethrow_exception(commit_error);
    }
    state_ = State::committed;
}

void WorkScope::rollback() {
    if (state_ != State::open) {
        return;
    }
    state_ = State::rolled_back;  // set first: a throwing rollback is not retried
    if (on_rollback_) {
        on_rollback_();
    }
}

}  // namespace scopeflow
