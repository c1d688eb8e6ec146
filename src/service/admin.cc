#include "service/admin.h"

#include <charconv>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/event/event_json.h>

#include "service/metrics.h"
#include "service/scope_tree.h"

namespace scopeflow::service {
namespace {

std::string quote(std::string_view s) {
    std::string out;
    append_json(Value(s), out);
    return out;
}

}  // namespace

http::ServerOptions admin_server_options(const std::string& address, const std::string& where) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        throw ConfigError(where, "expected host:port, e.g. 127.0.0.1:9464, got '" + address + "'");
    }
    unsigned port = 0;
    const char* first = address.data() + colon + 1;
    const char* last = address.data() + address.size();
    const auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || end != last || port > 65535) {
        throw ConfigError(where, "bad port in '" + address + "'");
    }
    http::ServerOptions o;
    o.name = "admin";
    o.address = address.substr(0, colon);
    if (o.address == "localhost") {
        o.address = "127.0.0.1";
    }
    o.port = static_cast<std::uint16_t>(port);
    o.workers = 2;  // handlers are quick; connections cost no thread (see http/server.h)
    o.max_body_bytes = 4096;
    o.shutdown_timeout = std::chrono::seconds(2);
    return o;
}

AdminServer::AdminServer(const std::string& address, const CurrentGeneration& current)
    : current_(current),
      server_(admin_server_options(address, "service.admin")) {
    server_.route("GET", "/metrics", [this](const http::Request&) { return metrics(); });
    server_.route("GET", "/healthz",
                  [](const http::Request&) { return http::Response::text(200, "ok\n"); });
    server_.route("GET", "/readyz", [this](const http::Request&) { return ready(); });
    server_.route("GET", "/resources", [this](const http::Request&) { return resources(); });
}

AdminServer::~AdminServer() {
    close();
}

void AdminServer::start() {
    server_.start();
}

void AdminServer::close() {
    server_.close();
}

http::Response AdminServer::metrics() {
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::string body = current_.read([&](const Pipeline* p, const Probes* probes,
                                         std::uint64_t reloads, std::uint64_t failures) {
        MetricsInput in;
        in.pipeline = p;
        in.probes = probes;
        in.monitor = &ResourceMonitor::global();
        in.reloads = reloads;
        in.reload_failures = failures;
        in.uptime_seconds = uptime;
        return prometheus_text(in);
    });
    return http::Response::text(200, std::move(body), "text/plain; version=0.0.4");
}

http::Response AdminServer::ready() {
    const std::shared_ptr<const Probes> probes = current_.probes();
    if (!current_.running()) {
        return http::Response::text(503, "not ready: no pipeline running\n");
    }
    std::string failing;
    if (probes) {
        Scope probe("readyz", {.track = false});
        for (const auto& p : *probes) {
            if (!p.ping) {
                continue;
            }
            bool ok = false;
            try {
                ok = p.ping(probe);
            } catch (...) {  // unreachable is the answer, not an error of the endpoint
                ok = false;
            }
            if (!ok) {
                failing += "not ready: resource '" + p.name + "' (" + p.type + ") unreachable\n";
            }
        }
    }
    current_.read([&](const Pipeline* p, const Probes*, std::uint64_t, std::uint64_t) {
        if (p == nullptr) {
            return;
        }
        const PipelineStats s = p->stats();
        if (!s.source_degraded.empty()) {
            failing += "not ready: source degraded: " + s.source_degraded + "\n";
        }
        for (const auto& st : s.stages) {
            if (!st.degraded.empty()) {
                failing += "not ready: stage '" + st.name + "' degraded: " + st.degraded + "\n";
            }
        }
    });
    if (!failing.empty()) {
        return http::Response::text(503, failing);
    }
    return http::Response::text(200, "ready\n");
}

http::Response AdminServer::resources() {
    const std::shared_ptr<const Probes> probes = current_.probes();
    std::string out = "{\"resources\":[";
    if (probes) {
        bool first = true;
        for (const auto& p : *probes) {
            out += first ? "" : ",";
            first = false;
            out += "{\"name\":" + quote(p.name) + ",\"type\":" + quote(p.type);
            if (p.pool) {
                const PoolStats s = p.pool();
                out += ",\"pool\":{\"active\":" + std::to_string(s.active) +
                       ",\"idle\":" + std::to_string(s.idle) +
                       ",\"pending\":" + std::to_string(s.pending) +
                       ",\"created\":" + std::to_string(s.created) +
                       ",\"destroyed\":" + std::to_string(s.destroyed) +
                       ",\"timeouts\":" + std::to_string(s.timeouts) +
                       ",\"leaks\":" + std::to_string(s.leaks) +
                       ",\"broken\":" + std::to_string(s.broken) + ",\"acquire_p99_ms\":" +
                       std::to_string(static_cast<double>(s.acquire_time.quantile(0.99)) / 1e6) +
                       "}";
            }
            if (p.gauges) {
                out += ",\"figures\":{";
                bool f1 = true;
                for (const auto& [k, v] : p.gauges()) {
                    out += (f1 ? "" : ",") + quote(k) + ":" + std::to_string(v);
                    f1 = false;
                }
                out += "}";
            }
            out += "}";
        }
    }
    const MonitorSnapshot m = ResourceMonitor::global().snapshot();
    out += "],\"ledger\":{\"live\":" + std::to_string(m.ledger.live_total()) + ",\"by_kind\":{";
    bool first = true;
    for (std::size_t k = 0; k < kResourceKindCount; ++k) {
        if (m.ledger.by_kind[k].entries == 0) {
            continue;
        }
        out += (first ? "" : ",") + quote(to_string(static_cast<ResourceKind>(k))) + ":" +
               std::to_string(m.ledger.by_kind[k].entries);
        first = false;
    }
    out += "},\"scopes\":[";
    first = true;
    for (const auto& o : m.ledger.by_owner) {
        out += (first ? "" : ",") + std::string("{\"scope\":") + quote(o.owner_path) +
               ",\"kind\":" + quote(to_string(o.kind)) +
               ",\"live\":" + std::to_string(o.count.entries) + "}";
        first = false;
    }
    // The same entries as one tree per root scope: the service scope, the generation, the
    // pipeline, its stages and workers, each with what it holds.
    ScopeTree tree;
    for (const auto& o : m.ledger.by_owner) {
        tree.count(o.owner_path, to_string(o.kind), o.count.entries);
    }
    out += "],\"tree\":" + tree.json() + "},\"reports\":{";
    first = true;
    for (std::size_t k = 0; k < kReportKindCount; ++k) {
        out += (first ? "" : ",") + quote(to_string(static_cast<ReportKind>(k))) + ":" +
               std::to_string(m.reports[k]);
        first = false;
    }
    out += "}}\n";
    return http::Response::json(200, std::move(out));
}

}  // namespace scopeflow::service
