// ResourceProbe: what the service can ask of a declared resource, whatever its type, for
// /metrics, /readyz, /resources and the --monitor-resources view.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <scopeflow/pool/pool_options.h>

namespace scopeflow {
class Scope;
}

namespace scopeflow::service {

struct ResourceProbe {
    std::string name;                   // as declared under resources:
    std::string type;                   // sqlite, postgres, redis, http, memory, files
    std::function<PoolStats()> pool{};  // pooled resources only
    // Reachability for /readyz (a trivial query, PING); unset: not probed (always ready).
    std::function<bool(Scope&)> ping{};
    // Type-specific figures: {"used_bytes", 1234}, ... (budgets).
    std::function<std::vector<std::pair<std::string, double>>()> gauges{};
};

using Probes = std::vector<ResourceProbe>;

}  // namespace scopeflow::service
