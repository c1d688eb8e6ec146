#include "service/monitor_view.h"

#include <cstdio>

#include <unistd.h>

#include <scopeflow/core/interruptible_sleep.h>
#include <scopeflow/core/resource_monitor.h>

#include "service/process_info.h"

namespace scopeflow::service {
namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string bytes(std::uint64_t b) {
    return fixed(static_cast<double>(b) / (1024.0 * 1024.0), 1) + "MiB";
}

}  // namespace

MonitorView::MonitorView(const CurrentGeneration& current, std::chrono::milliseconds every)
    : current_(current) {
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    thread_ = std::jthread([this, every, tty](std::stop_token st) {
        while (sleep_for(every, st)) {
            const std::string text = render(tty);
            std::fwrite(text.data(), 1, text.size(), stderr);
            std::fflush(stderr);
        }
    });
}

MonitorView::~MonitorView() {
    thread_.request_stop();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::string MonitorView::render(bool tty) {
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_time_).count();
    last_time_ = now;
    std::string events;
    std::string pools;
    current_.read([&](const Pipeline* p, const Probes* probes, std::uint64_t, std::uint64_t) {
        if (p != nullptr) {
            const PipelineStats s = p->stats();
            std::uint64_t errors = 0;
            for (const auto& st : s.stages) {
                errors += st.errors;
            }
            const double rate =
                dt > 0 ? static_cast<double>(s.read - std::min(s.read, last_read_)) / dt : 0;
            last_read_ = s.read;
            events = "events " + std::to_string(s.read) + " (" + fixed(rate, 0) + "/s) out " +
                     std::to_string(s.completed) + " dead-lettered " +
                     std::to_string(s.dead_lettered) + " errors " + std::to_string(errors) +
                     " nacked " + std::to_string(s.nacked);
        } else {
            events = "no pipeline running";
        }
        if (probes != nullptr) {
            for (const auto& r : *probes) {
                if (!r.pool) {
                    continue;
                }
                const PoolStats ps = r.pool();
                pools += (tty ? "\n  pool " : " | pool ") + r.name + ": active " +
                         std::to_string(ps.active) + " idle " + std::to_string(ps.idle) +
                         " waiting " + std::to_string(ps.pending) + " acquire p99 " +
                         fixed(static_cast<double>(ps.acquire_time.quantile(0.99)) / 1e6, 2) +
                         "ms" + " broken " + std::to_string(ps.broken) + " timeouts " +
                         std::to_string(ps.timeouts);
            }
        }
    });
    const MonitorSnapshot m = ResourceMonitor::global().snapshot();
    std::string live;
    for (std::size_t k = 0; k < kResourceKindCount; ++k) {
        if (m.ledger.by_kind[k].entries > 0) {
            live += (live.empty() ? "" : ", ") +
                    std::string(to_string(static_cast<ResourceKind>(k))) + " " +
                    std::to_string(m.ledger.by_kind[k].entries);
        }
    }
    const ProcessInfo pi = read_process_info();
    const std::string process = "fds " + std::to_string(pi.open_fds) + " rss " +
                                bytes(pi.rss_bytes) + " threads " + std::to_string(pi.threads) +
                                " children " + std::to_string(pi.children);
    const std::string reports =
        "leaks " + std::to_string(m.reports[static_cast<std::size_t>(ReportKind::leak)]) +
        " stuck " + std::to_string(m.reports[static_cast<std::size_t>(ReportKind::stuck)]);
    if (!tty) {
        return "monitor: " + events + pools + " | live: " + (live.empty() ? "none" : live) + " | " +
               process + " | " + reports + "\n";
    }
    std::string scopes;
    std::size_t shown = 0;
    for (const auto& o : m.ledger.by_owner) {
        if (shown++ == 12) {
            scopes += "\n  ...";
            break;
        }
        scopes += "\n  " + o.owner_path + ": " + std::string(to_string(o.kind)) + " " +
                  std::to_string(o.count.entries);
    }
    return "\x1b[H\x1b[2Jscopeflow --monitor-resources\n\n" + events +
           "\n\npools:" + (pools.empty() ? " none" : pools) +
           "\n\nlive resources: " + (live.empty() ? "none" : live) + "\nby scope:" + scopes +
           "\n\nprocess: " + process + "\nmonitor: " + reports + "\n";
}

}  // namespace scopeflow::service
