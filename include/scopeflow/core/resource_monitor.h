// ResourceMonitor: where lifecycle problems are reported, and the one place that can say what
// the process holds right now.
//
// Scopes report here what they cannot throw: cleanup failures during a destructor, cleanups
// stuck past a close deadline, leaks (an owner ended still holding entries) and late releases.
// The monitor keeps totals per report kind, a bounded ring of recent reports (overflow policy:
// drop the oldest, counted in `dropped`), and forwards each report to an optional sink (stderr
// by default). snapshot() joins this with the ledger; metrics and the live view read it.
//
//   scopeflow::Ledger ledger;
//   scopeflow::ResourceMonitor monitor{ledger, {.log_to_stderr = false}};
//   scopeflow::Scope root{"service", {.monitor = &monitor}};
//   ...
//   auto snap = monitor.snapshot();  // live resources per kind and scope, report counts
//
// Thread safety: all members may be called concurrently; report() never throws. The sink is
// called without the monitor's lock held, from whichever thread reported.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_kind.h>

namespace scopeflow {

enum class ReportKind : unsigned char {
    close_error,   // a cleanup threw where nothing could rethrow it (destructor, unwinding)
    stuck,         // a cleanup overran its close deadline and was abandoned
    leak,          // an owner ended while still holding this entry
    late_release,  // an abandoned cleanup finished after all, or an orphan was released
};
inline constexpr std::size_t kReportKindCount = 4;

[[nodiscard]] std::string_view to_string(ReportKind k) noexcept;

struct Report {
    ReportKind kind = ReportKind::close_error;
    std::string scope_path;  // owner of the resource
    std::string resource;    // resource name
    ResourceKind resource_kind = ResourceKind::other;
    std::string site;                    // where it was acquired, "file.cc:12"
    std::string message;                 // what went wrong
    std::chrono::nanoseconds elapsed{};  // stuck/late: how long the cleanup ran; leak: age
    std::chrono::system_clock::time_point when = std::chrono::system_clock::now();
};

// "stuck: service/pipeline: release of 'db' still running after 250ms (acquired at a.cc:3)"
[[nodiscard]] std::string format_report(const Report& r);

struct MonitorOptions {
    std::size_t recent_capacity = 256;  // reports kept for snapshot(); older ones are dropped
    bool log_to_stderr = true;          // print each report as one line on stderr
};

struct MonitorSnapshot {
    LedgerSnapshot ledger;
    std::array<std::uint64_t, kReportKindCount> reports{};  // totals per ReportKind
    std::uint64_t dropped = 0;                              // reports evicted from `recent`
    std::vector<Report> recent;                             // oldest first
};

// Also the ledger's OrphanObserver for the scopes that report here: releasing an entry whose
// owner already ended (a ticket or lease returned after its scope closed) is reported as
// late_release, naming the owner, the resource and how long it was held.
class ResourceMonitor : public OrphanObserver {
public:
    using Sink = std::function<void(const Report&)>;

    explicit ResourceMonitor(Ledger& ledger, MonitorOptions options = {});
    ResourceMonitor(const ResourceMonitor&) = delete;
    ResourceMonitor& operator=(const ResourceMonitor&) = delete;
    ~ResourceMonitor();  // detaches from the ledger's orphans

    // Process-wide monitor over Ledger::global(). Never destroyed (see Ledger::global()).
    static ResourceMonitor& global();

    [[nodiscard]] Ledger& ledger() const noexcept { return ledger_; }

    // Records a report. Never throws; a sink that throws is ignored for that report.
    void report(Report r) noexcept;

    // Replaces the sink (nullptr: none besides stderr logging).
    void set_sink(Sink sink);

    [[nodiscard]] std::uint64_t count(ReportKind kind) const;
    [[nodiscard]] std::vector<Report> recent() const;
    [[nodiscard]] MonitorSnapshot snapshot() const;

    // OrphanObserver: reports the late release of an entry whose owner had ended.
    void orphan_released(const LedgerEntry& entry) noexcept override;

private:
    Ledger& ledger_;
    const MonitorOptions options_;
    mutable std::mutex mu_;
    std::array<std::uint64_t, kReportKindCount> counts_{};  // guarded by mu_
    std::deque<Report> recent_;                             // guarded by mu_
    std::uint64_t dropped_ = 0;                             // guarded by mu_
    std::shared_ptr<const Sink> sink_;                      // guarded by mu_
};

}  // namespace scopeflow
