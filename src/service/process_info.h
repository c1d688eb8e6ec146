// The process's own resources, read from /proc: open fds, resident memory, threads and live
// child processes. For /metrics, the monitor view and the exit report.
#pragma once

#include <cstdint>

namespace scopeflow::service {

struct ProcessInfo {
    std::uint64_t open_fds = 0;
    std::uint64_t rss_bytes = 0;
    std::uint64_t threads = 0;
    std::uint64_t children = 0;  // direct children not yet reaped (zombies included)
    double cpu_seconds = 0;      // user + system
};

[[nodiscard]] ProcessInfo read_process_info();

}  // namespace scopeflow::service
