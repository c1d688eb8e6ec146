#include "service/metrics.h"

#include <cinttypes>
#include <cstdio>

#include <scopeflow/core/version.h>

#include "service/process_info.h"

namespace scopeflow::service {
namespace {

class Writer {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    // labels: already formatted as `a="x",b="y"` (or empty).
    void sample(std::string_view name, const std::string& labels, double value) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        char buf[64];
        if (value == static_cast<double>(static_cast<std::int64_t>(value)) && value < 9e15 &&
            value > -9e15) {
            std::snprintf(buf, sizeof buf, " %" PRId64 "\n", static_cast<std::int64_t>(value));
        } else {
            std::snprintf(buf, sizeof buf, " %.9g\n", value);
        }
        out_ += buf;
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

std::string label(const char* key, std::string_view value) {
    return std::string(key) + "=\"" + escape_label(value) + "\"";
}

double seconds(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e9;
}

void pipeline_metrics(Writer& w, const Pipeline& p) {
    const PipelineStats s = p.stats();
    const std::string l = label("pipeline", p.name());
    const struct {
        const char* name;
        const char* help;
        std::uint64_t value;
    } counters[] = {
        {"scopeflow_events_read_total", "Events taken from the source.", s.read},
        {"scopeflow_events_completed_total", "Event branches that reached a sink.", s.completed},
        {"scopeflow_events_dropped_total", "Event branches a stage dropped (filtered).", s.dropped},
        {"scopeflow_events_dead_lettered_total", "Event branches handled by the dead-letter stage.",
         s.dead_lettered},
        {"scopeflow_events_failed_total", "Event branches that failed with nowhere to go.",
         s.failed},
        {"scopeflow_events_interrupted_total",
         "Event branches a stop interrupted (nacked, read again after a restart).", s.interrupted},
        {"scopeflow_events_acked_total", "Events acknowledged to the source.", s.acked},
        {"scopeflow_events_nacked_total", "Events handed back to the source (not acknowledged).",
         s.nacked},
        {"scopeflow_events_emitted_total", "Events created by stages.", s.emitted},
    };
    for (const auto& c : counters) {
        w.family(c.name, "counter", c.help);
        w.sample(c.name, l, static_cast<double>(c.value));
    }
    w.family("scopeflow_stage_processed_total", "counter", "Events a stage processed.");
    for (const auto& st : s.stages) {
        w.sample("scopeflow_stage_processed_total", l + "," + label("stage", st.name),
                 static_cast<double>(st.processed));
    }
    w.family("scopeflow_stage_errors_total", "counter",
             "Events a stage failed (thrown or routed to error).");
    for (const auto& st : s.stages) {
        w.sample("scopeflow_stage_errors_total", l + "," + label("stage", st.name),
                 static_cast<double>(st.errors));
    }
    w.family("scopeflow_stage_degraded", "gauge",
             "1 while a stage cannot make progress (e.g. a sink waiting for disk space).");
    for (const auto& st : s.stages) {
        w.sample("scopeflow_stage_degraded", l + "," + label("stage", st.name),
                 st.degraded.empty() ? 0.0 : 1.0);
    }
    w.family("scopeflow_source_degraded", "gauge",
             "1 while the source cannot make progress (e.g. its progress cannot be committed).");
    w.sample("scopeflow_source_degraded", l, s.source_degraded.empty() ? 0.0 : 1.0);
}

void pool_metrics(Writer& w, const Probes& probes) {
    struct Row {
        std::string labels;
        PoolStats s;
    };
    std::vector<Row> rows;
    for (const auto& p : probes) {
        if (p.pool) {
            rows.push_back({label("pool", p.name) + "," + label("type", p.type), p.pool()});
        }
    }
    const struct {
        const char* name;
        const char* type;
        const char* help;
        double (*get)(const PoolStats&);
    } fields[] = {
        {"scopeflow_pool_active", "gauge", "Connections leased out.",
         [](const PoolStats& s) { return static_cast<double>(s.active); }},
        {"scopeflow_pool_idle", "gauge", "Open connections waiting to be leased.",
         [](const PoolStats& s) { return static_cast<double>(s.idle); }},
        {"scopeflow_pool_pending", "gauge", "Acquires waiting for a connection.",
         [](const PoolStats& s) { return static_cast<double>(s.pending); }},
        {"scopeflow_pool_created_total", "counter", "Connections opened.",
         [](const PoolStats& s) { return static_cast<double>(s.created); }},
        {"scopeflow_pool_destroyed_total", "counter", "Connections closed.",
         [](const PoolStats& s) { return static_cast<double>(s.destroyed); }},
        {"scopeflow_pool_timeouts_total", "counter", "Acquires that timed out.",
         [](const PoolStats& s) { return static_cast<double>(s.timeouts); }},
        {"scopeflow_pool_leaks_total", "counter", "Leases held past the leak threshold.",
         [](const PoolStats& s) { return static_cast<double>(s.leaks); }},
        {"scopeflow_pool_broken_total", "counter", "Connections discarded as broken.",
         [](const PoolStats& s) { return static_cast<double>(s.broken); }},
        {"scopeflow_pool_connect_failures_total", "counter", "Connection attempts that failed.",
         [](const PoolStats& s) { return static_cast<double>(s.connect_failures); }},
    };
    for (const auto& f : fields) {
        w.family(f.name, f.type, f.help);
        for (const auto& r : rows) {
            w.sample(f.name, r.labels, f.get(r.s));
        }
    }
    w.family("scopeflow_pool_acquire_seconds", "summary",
             "Time to acquire a connection (waiting and connecting included).");
    for (const auto& r : rows) {
        const auto& h = r.s.acquire_time;
        for (const double q : {0.5, 0.99}) {
            char qs[16];
            std::snprintf(qs, sizeof qs, "%g", q);
            w.sample("scopeflow_pool_acquire_seconds", r.labels + "," + label("quantile", qs),
                     seconds(h.quantile(q)));
        }
        w.sample("scopeflow_pool_acquire_seconds_sum", r.labels, seconds(h.sum_ns));
        w.sample("scopeflow_pool_acquire_seconds_count", r.labels, static_cast<double>(h.count));
    }
}

void budget_metrics(Writer& w, const Probes& probes) {
    w.family("scopeflow_budget", "gauge", "Figures of memory and file budgets, by name.");
    for (const auto& p : probes) {
        if (p.gauges) {
            for (const auto& [name, value] : p.gauges()) {
                w.sample("scopeflow_budget",
                         label("budget", p.name) + "," + label("type", p.type) + "," +
                             label("figure", name),
                         value);
            }
        }
    }
}

void core_metrics(Writer& w, const ResourceMonitor& monitor) {
    const MonitorSnapshot m = monitor.snapshot();
    w.family("scopeflow_ledger_live", "gauge", "Live resources in the ledger, by kind.");
    for (std::size_t k = 0; k < kResourceKindCount; ++k) {
        w.sample("scopeflow_ledger_live", label("kind", to_string(static_cast<ResourceKind>(k))),
                 static_cast<double>(m.ledger.by_kind[k].entries));
    }
    w.family("scopeflow_ledger_acquired_total", "counter", "Resources ever recorded.");
    w.sample("scopeflow_ledger_acquired_total", "", static_cast<double>(m.ledger.acquired_total));
    w.family("scopeflow_monitor_reports_total", "counter",
             "Resource monitor reports (leak, stuck, close_error, late_release), by kind.");
    for (std::size_t k = 0; k < kReportKindCount; ++k) {
        w.sample("scopeflow_monitor_reports_total",
                 label("kind", to_string(static_cast<ReportKind>(k))),
                 static_cast<double>(m.reports[k]));
    }
}

void process_metrics(Writer& w, const MetricsInput& in) {
    const ProcessInfo p = read_process_info();
    w.family("process_open_fds", "gauge", "Open file descriptors.");
    w.sample("process_open_fds", "", static_cast<double>(p.open_fds));
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", "", static_cast<double>(p.rss_bytes));
    w.family("process_threads", "gauge", "Threads of the process.");
    w.sample("process_threads", "", static_cast<double>(p.threads));
    w.family("process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
    w.sample("process_cpu_seconds_total", "", p.cpu_seconds);
    w.family("scopeflow_child_processes", "gauge", "Child processes not yet reaped.");
    w.sample("scopeflow_child_processes", "", static_cast<double>(p.children));
    w.family("scopeflow_uptime_seconds", "gauge", "Seconds since the service started.");
    w.sample("scopeflow_uptime_seconds", "", in.uptime_seconds);
    w.family("scopeflow_reloads_total", "counter", "Configuration reloads, by result.");
    w.sample("scopeflow_reloads_total", label("result", "ok"), static_cast<double>(in.reloads));
    w.sample("scopeflow_reloads_total", label("result", "failed"),
             static_cast<double>(in.reload_failures));
    w.family("scopeflow_build_info", "gauge", "Always 1; the version is a label.");
    w.sample("scopeflow_build_info", label("version", kVersionString), 1);
}

}  // namespace

std::string escape_label(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string prometheus_text(const MetricsInput& in) {
    Writer w;
    if (in.pipeline != nullptr) {
        pipeline_metrics(w, *in.pipeline);
    }
    if (in.probes != nullptr) {
        pool_metrics(w, *in.probes);
        budget_metrics(w, *in.probes);
    }
    core_metrics(w, in.monitor != nullptr ? *in.monitor : ResourceMonitor::global());
    process_metrics(w, in);
    return w.take();
}

}  // namespace scopeflow::service
