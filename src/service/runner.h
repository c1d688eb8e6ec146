// The `scopeflow run` loop: builds the pipeline from a file, runs it until the input ends or a
// signal stops it, then reports and checks that nothing leaked.
//
// Signals: SIGTERM / SIGINT drain within service.shutdown_timeout, then force (report what was
// stuck, exit 5). SIGHUP reloads: the new file is built first (a bad one is logged and the old
// pipeline keeps running); then the old pipeline drains and commits, and the new one starts
// from where it stopped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace scopeflow::service {

struct RunOptions {
    std::string config_path;
    bool monitor_resources = false;                // live view on stderr, refreshed every second
    std::optional<std::string> simulate_failures;  // "SEED" or a rule spec; empty: seed 1
};

// Returns an exit code (exit_codes.h).
int run_service(const RunOptions& options);

// `scopeflow check FILE`: parses and builds without opening anything. Prints "FILE: ok ..." or
// the error (file:line: path: message) and returns kExitOk or kExitBadConfig.
int check_config(const std::string& path);

}  // namespace scopeflow::service
