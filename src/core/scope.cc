#include <utility>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "core/scope_node.h"

namespace scopeflow {
namespace {

void report_failures(ResourceMonitor& monitor,
                     const std::vector<CleanupFailure>& failures,
                     const std::string& context) {
    for (const auto& f : failures) {
        if (f.stuck) {
            continue;  // already reported when it was detected
        }
        monitor.report({.kind = ReportKind::close_error,
                        .scope_path = f.scope_path,
                        .resource = f.resource,
                        .site = f.site,
                        .message = message_of(f.error) + context});
    }
}

}  // namespace

std::string_view to_string(ScopeLevel level) noexcept {
    switch (level) {
        case ScopeLevel::service:
            return "service";
        case ScopeLevel::pipeline:
            return "pipeline";
        case ScopeLevel::stage:
            return "stage";
        case ScopeLevel::worker:
            return "worker";
        case ScopeLevel::task:
            return "task";
        case ScopeLevel::other:
            return "other";
    }
    return "other";
}

Scope::Scope(std::string name, ScopeOptions options)
    : node_(std::make_shared<detail::ScopeNode>(std::move(name), options, nullptr)) {}

Scope::Scope(std::shared_ptr<detail::ScopeNode> node) noexcept
    : node_(std::move(node)) {}

Scope::Scope(Scope&& other) noexcept = default;

Scope& Scope::operator=(Scope&& other) noexcept {
    if (this != &other) {
        Scope old(std::move(*this));  // closes (without throwing) at the end of this block
        node_ = std::move(other.node_);
    }
    return *this;
}

Scope::~Scope() {
    if (!node_ || node_->closed()) {
        return;
    }
    try {
        auto failures = node_->close_collect(node_->close_timeout_);
        report_failures(
            *node_->monitor_, failures,
            std::uncaught_exceptions() > 0 ? " (while unwinding from another error)" : "");
    } catch (...) {
        node_->monitor_->report(
            {.kind = ReportKind::close_error,
             .scope_path = node_->owner_path(),
             .message = "close failed: " + message_of(std::current_exception())});
    }
}

Scope Scope::child(std::string name, ScopeOptions options) {
    return Scope(node_->make_child(std::move(name), options));
}

void* Scope::adopt_raw(const ResourceInfo& info,
                       const std::source_location& site,
                       const detail::ResourceOps& ops,
                       void* source,
                       bool hit_fault_point) {
    return node_->adopt(info, site, ops, source, hit_fault_point);
}

void Scope::acquire_point(std::string_view name) {
    node_->acquire_point(name);
}

std::string ScopeRef::path() const {
    return node_ == nullptr ? std::string() : node_->owner_path();
}

ScopeRef Scope::ref() const noexcept {
    return ScopeRef(node_);
}

Ticket Scope::track(const ResourceInfo& info, std::source_location site) {
    return node_->track(info, site);
}

void Scope::fault_point(std::string_view point) {
    if (node_->faults_ != nullptr) {
        node_->faults_->hit(FaultPhase::use, point, node_->stop_token());
    }
}

void Scope::close() {
    close(node_->close_timeout_);
}

void Scope::close(std::chrono::nanoseconds cleanup_timeout) {
    auto failures = node_->close_collect(cleanup_timeout);
    if (!failures.empty()) {
        throw CloseError(std::move(failures));
    }
}

void Scope::close_after_failure() noexcept {
    std::vector<CleanupFailure> failures;
    try {
        failures = node_->close_collect(node_->close_timeout_);
    } catch (...) {
        failures.push_back({.scope_path = node_->owner_path(),
                            .resource = "<close>",
                            .error = std::current_exception()});
    }
    if (failures.empty()) {
        return;
    }
    try {
        throw;  // the body's exception, still being handled by our caller
    } catch (Error& body_error) {
        try {
            for (auto& f : failures) {
                body_error.add_suppressed(std::make_exception_ptr(CloseError({f})));
            }
        } catch (...) {  // out of memory while attaching: fall back to the monitor
            report_failures(*node_->monitor_, failures, "");
        }
    } catch (...) {
        // Not ours to extend: keep the body's exception unchanged and report the cleanups.
        report_failures(*node_->monitor_, failures,
                        " (while unwinding from: " + message_of(std::current_exception()) + ")");
    }
}

void Scope::request_stop() {
    (void)node_->stop_token();  // create the source so descendants created later see the stop
    node_->request_stop();
}

std::stop_token Scope::stop_token() {
    return node_->stop_token();
}

bool Scope::closed() const {
    return node_->closed();
}

std::string Scope::path() const {
    return node_->owner_path();
}

std::string_view Scope::name() const {
    return node_->name_;
}

ScopeLevel Scope::level() const {
    return node_->level_;
}

std::size_t Scope::resource_count() const {
    return node_->resource_count();
}

ResourceMonitor& Scope::monitor() const {
    return *node_->monitor_;
}

FaultInjector* Scope::faults() const {
    return node_->faults_;
}

}  // namespace scopeflow
