// /metrics: the service's state in the Prometheus text exposition format (version 0.0.4), as
// checked by `promtool check metrics`.
//
// Families: scopeflow_events_*_total (per pipeline), scopeflow_stage_{processed,errors}_total,
// scopeflow_pool_* (per pooled resource, acquire time as a summary), scopeflow_budget_* gauges,
// scopeflow_ledger_live{kind}, scopeflow_monitor_reports_total{kind},
// scopeflow_reloads_total, process_{open_fds,resident_memory_bytes,threads,cpu_seconds_total},
// scopeflow_child_processes, scopeflow_uptime_seconds, scopeflow_build_info.
// No label or value ever holds a secret: only names from the config and counts.
#pragma once

#include <cstdint>
#include <string>

#include <scopeflow/engine/pipeline.h>
#include <scopeflow/core/resource_monitor.h>

#include "service/probe.h"

namespace scopeflow::service {

struct MetricsInput {
    const Pipeline* pipeline = nullptr;  // null between generations
    const Probes* probes = nullptr;
    const ResourceMonitor* monitor = nullptr;
    std::uint64_t reloads = 0;
    std::uint64_t reload_failures = 0;
    double uptime_seconds = 0;
};

[[nodiscard]] std::string prometheus_text(const MetricsInput& in);

// A label value escaped for the exposition format (\\, \", \n).
[[nodiscard]] std::string escape_label(std::string_view value);

}  // namespace scopeflow::service
