#include <cstdio>
#include <utility>

#include <scopeflow/core/resource_monitor.h>

#include "core/format_duration.h"

namespace scopeflow {

std::string_view to_string(ReportKind k) noexcept {
    switch (k) {
        case ReportKind::close_error:
            return "close_error";
        case ReportKind::stuck:
            return "stuck";
        case ReportKind::leak:
            return "leak";
        case ReportKind::late_release:
            return "late_release";
    }
    return "unknown";
}

std::string format_report(const Report& r) {
    std::string s{to_string(r.kind)};
    s += ": ";
    s += r.scope_path.empty() ? std::string("<no owner>") : r.scope_path;
    s += ": ";
    s += to_string(r.resource_kind);
    s += " '";
    s += r.resource;
    s += "'";
    if (r.elapsed.count() > 0) {
        s += r.kind == ReportKind::leak ? " held for " : " after ";
        s += detail::format_duration(r.elapsed);
    }
    if (!r.site.empty()) {
        s += " (acquired at ";
        s += r.site;
        s += ")";
    }
    if (!r.message.empty()) {
        s += ": ";
        s += r.message;
    }
    return s;
}

ResourceMonitor::ResourceMonitor(Ledger& ledger, MonitorOptions options)
    : ledger_(ledger),
      options_(options) {}

ResourceMonitor::~ResourceMonitor() {
    ledger_.forget_observer(this);
}

void ResourceMonitor::orphan_released(const LedgerEntry& entry) noexcept {
    try {
        report({.kind = ReportKind::late_release,
                .scope_path = entry.owner_path,
                .resource = entry.name,
                .resource_kind = entry.kind,
                .site = entry.site,
                .message = "released after its owner closed (reported then as a leak)",
                .elapsed = entry.age});
    } catch (...) {  // NOLINT(bugprone-empty-catch): building the report ran out of memory
    }
}

ResourceMonitor& ResourceMonitor::global() {
    // Deliberately leaked, like Ledger::global().
    static ResourceMonitor* instance =
        new ResourceMonitor(Ledger::global());  // NOLINT(cppcoreguidelines-owning-memory)
    return *instance;
}

void ResourceMonitor::report(Report r) noexcept {
    try {
        std::shared_ptr<const Sink> sink;
        {
            std::lock_guard lock(mu_);
            ++counts_[static_cast<std::size_t>(r.kind)];
            sink = sink_;
        }
        if (options_.log_to_stderr) {
            const std::string line = "scopeflow: " + format_report(r) + "\n";
            std::fputs(line.c_str(), stderr);
        }
        if (sink && *sink) {
            try {
                (*sink)(r);
            } catch (...) {  // NOLINT(bugprone-empty-catch): a broken sink must not break close
            }
        }
        std::lock_guard lock(mu_);
        if (options_.recent_capacity == 0) {
            ++dropped_;
            return;
        }
        if (recent_.size() == options_.recent_capacity) {
            recent_.pop_front();
            ++dropped_;
        }
        recent_.push_back(std::move(r));
    } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while reporting; nothing to do
    }
}

void ResourceMonitor::set_sink(Sink sink) {
    auto next = sink ? std::make_shared<const Sink>(std::move(sink)) : nullptr;
    std::lock_guard lock(mu_);
    sink_ = std::move(next);
}

std::uint64_t ResourceMonitor::count(ReportKind kind) const {
    std::lock_guard lock(mu_);
    return counts_[static_cast<std::size_t>(kind)];
}

std::vector<Report> ResourceMonitor::recent() const {
    std::lock_guard lock(mu_);
    return {recent_.begin(), recent_.end()};
}

MonitorSnapshot ResourceMonitor::snapshot() const {
    MonitorSnapshot snap;
    snap.ledger = ledger_.snapshot();
    std::lock_guard lock(mu_);
    snap.reports = counts_;
    snap.dropped = dropped_;
    snap.recent.assign(recent_.begin(), recent_.end());
    return snap;
}

}  // namespace scopeflow
