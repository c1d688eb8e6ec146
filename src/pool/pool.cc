// Non-template parts of scopeflow::Pool<T>: option validation and messages.
#include <cstdint>
#include <random>
#include <string>

#include <scopeflow/core/error.h>
#include <scopeflow/pool/pool_options.h>
#include <scopeflow/core/resource_kind.h>
#include <scopeflow/core/resource_monitor.h>

namespace scopeflow {
namespace {

[[noreturn]] void bad(const PoolOptions& o, const char* field, const std::string& message) {
    throw ConfigError("pool." + (o.name.empty() ? std::string("<unnamed>") : o.name) + "." + field,
                      message);
}

}  // namespace

void validate_pool_options(const PoolOptions& o) {
    using std::chrono::milliseconds;
    if (o.name.empty()) {
        bad(o, "name", "a pool needs a name (shown in errors and reports)");
    }
    if (o.max_size == 0) {
        bad(o, "max_size", "must be at least 1");
    }
    if (o.min_idle > o.max_size) {
        bad(o, "min_idle",
            "must not exceed max_size (" + std::to_string(o.min_idle) + " > " +
                std::to_string(o.max_size) + ")");
    }
    if (o.acquire_timeout < milliseconds::zero()) {
        bad(o, "acquire_timeout", "must not be negative");
    }
    if (o.idle_timeout < milliseconds::zero()) {
        bad(o, "idle_timeout", "must not be negative (0: never)");
    }
    if (o.max_lifetime < milliseconds::zero()) {
        bad(o, "max_lifetime", "must not be negative (0: never)");
    }
    if (!(o.lifetime_jitter >= 0.0 && o.lifetime_jitter < 1.0)) {
        bad(o, "lifetime_jitter", "must be in [0, 1)");
    }
    if (o.validate_if_idle_for < milliseconds::zero()) {
        bad(o, "validate_if_idle_for", "must not be negative (0: always)");
    }
    if (o.leak_threshold < milliseconds::zero()) {
        bad(o, "leak_threshold", "must not be negative (0: off)");
    }
    if (o.housekeeping_interval < milliseconds::zero()) {
        bad(o, "housekeeping_interval", "must not be negative (0: none)");
    }
}

std::string PoolCloseReport::describe() const {
    std::string s = "pool '" + pool + "': ";
    if (outstanding.empty()) {
        return s + "closed cleanly";
    }
    s += std::to_string(outstanding.size()) + " lease(s) not returned:";
    for (const auto& l : outstanding) {
        s += " " + (l.owner_path.empty() ? std::string("<no owner>") : l.owner_path) + " (" +
             l.site + ", held " + std::to_string(l.held.count()) + "ms);";
    }
    s.pop_back();
    return s;
}

namespace detail {

std::string pool_timeout_message(const std::string& pool,
                                 std::chrono::milliseconds timeout,
                                 std::size_t active,
                                 std::size_t idle,
                                 std::size_t waiting,
                                 std::size_t max_size) {
    return "pool '" + pool + "': no connection within " + std::to_string(timeout.count()) + "ms (" +
           std::to_string(active) + " active, " + std::to_string(idle) + " idle, " +
           std::to_string(waiting) + " waiting, max " + std::to_string(max_size) + ")";
}

void report_pool_close_failure(ResourceMonitor* monitor,
                               const std::string& owner_path,
                               const PoolOptions& options,
                               const std::exception_ptr& error) noexcept {
    if (monitor == nullptr) {
        monitor = options.monitor != nullptr ? options.monitor : &ResourceMonitor::global();
    }
    try {
        std::string path = owner_path;
        if (path.empty()) {
            path = options.owner.empty() ? "pool " + options.name : options.owner;
        }
        monitor->report({.kind = ReportKind::close_error,
                         .scope_path = std::move(path),
                         .resource = options.name,
                         .resource_kind = ResourceKind::connection,
                         .site = {},
                         .message = "pool '" + options.name +
                                    "': closing a connection failed: " + message_of(error)});
    } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory building the report
    }
}

double pool_lifetime_factor(double jitter) {
    if (jitter <= 0.0) {
        return 1.0;
    }
    thread_local std::minstd_rand engine{std::random_device{}()};
    std::uniform_real_distribution<double> dist(0.0, jitter);
    return 1.0 - dist(engine);
}

}  // namespace detail
}  // namespace scopeflow
