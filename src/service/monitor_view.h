// --monitor-resources: a live view of the running service on stderr, refreshed every second.
//
// On a terminal it redraws a small table (pools, live resources per kind and per scope,
// process figures, throughput); otherwise it prints one plain line per refresh, fit for logs.
// It only reads: counters, the ledger snapshot and /proc.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "service/current.h"

namespace scopeflow::service {

class MonitorView {
public:
    MonitorView(const CurrentGeneration& current,
                std::chrono::milliseconds every = std::chrono::seconds(1));
    MonitorView(const MonitorView&) = delete;
    MonitorView& operator=(const MonitorView&) = delete;
    ~MonitorView();  // stops the thread

    // One refresh as text (what the thread prints); `tty` picks the layout.
    [[nodiscard]] std::string render(bool tty);

private:
    const CurrentGeneration& current_;
    std::uint64_t last_read_ = 0;
    std::chrono::steady_clock::time_point last_time_ = std::chrono::steady_clock::now();
    std::jthread thread_;  // last: stopped first
};

}  // namespace scopeflow::service
