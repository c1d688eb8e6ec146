// The admin endpoint: a small HTTP server (loopback by default) for operators and probes.
//
//   GET /metrics    Prometheus text format (metrics.h)
//   GET /healthz    200 "ok" while the process serves requests (liveness)
//   GET /readyz     200 when a pipeline is running and every probed resource answers (a trivial
//                   query, PING); 503 naming what is not ready otherwise
//   GET /resources  JSON: pools, budgets, live ledger entries by owner scope (a list, and a tree
//                   rooted at the service scope), monitor reports
//
// The service swaps the current generation (pipeline + probes) on reload (current.h); handlers
// read it under its lock, so a scrape never sees a half-replaced pipeline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <scopeflow/engine/pipeline.h>
#include <scopeflow/http/server.h>

#include "service/current.h"

namespace scopeflow::service {

class AdminServer {
public:
    // address: "host:port" (port 0: ephemeral). Throws ConfigError for a bad address, Error
    // when it cannot bind.
    AdminServer(const std::string& address, const CurrentGeneration& current);
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;
    ~AdminServer();

    void start();
    void close();
    [[nodiscard]] std::uint16_t port() const noexcept { return server_.port(); }

private:
    http::Response metrics();
    http::Response ready();
    http::Response resources();

    const CurrentGeneration& current_;
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    http::Server server_;  // last: its threads stop before the rest goes
};

// Splits "127.0.0.1:9464" (ConfigError naming `where` when malformed).
[[nodiscard]] http::ServerOptions admin_server_options(const std::string& address,
                                                       const std::string& where);

}  // namespace scopeflow::service
