// Service: runs a pipeline file (YAML) as `scopeflow run` does, from C++.
//
//   #include <scopeflow/service/service.h>
//
//   int main(int argc, char** argv) {
//       return scopeflow::service::run_file(argv[1]);  // until the input ends or SIGTERM
//   }
//
// Or, to stop or reload it from another thread instead of by signal:
//
//   scopeflow::service::Service svc({.config_path = "pipeline.yaml", .handle_signals = false});
//   std::jthread runner([&] { code = svc.run(); });
//   ...
//   svc.reload();   // as SIGHUP: the file is read again; a bad one leaves the pipeline running
//   svc.stop();     // as SIGTERM: drain within service.shutdown_timeout, then return
//
// run() is a start-up ladder: logging, signal handlers, the pipeline generation (its fault
// injector, resources, source and pipeline, in a child scope "gen-N"), the admin endpoint, the
// pipeline's start, the monitor view. Each piece is owned by one root scope, "service", from the
// moment it starts, so every way out (the input ends, stop(), SIGTERM/SIGINT, a failed start,
// a failed reload) releases what started, in reverse: first the generation (pipeline, source,
// resources, fault injector), then the service's own pieces. run() then logs the exit report
// (what was released, as a tree rooted at "service", and anything still live) and returns an
// exit code (exit_codes.h). docs/lifecycle.md has the whole order.
//
// Logs go to spdlog's default logger, replaced by a "scopeflow" stderr logger for the run (the
// file's service.log_format and log_level). The exit-code meanings, signals and admin endpoint
// are those of the binary (docs/operations.md). A shutdown that overruns
// service.shutdown_timeout ends the process with kExitForced, as the binary does: a stuck
// thread cannot be stopped safely.
//
// Thread safety: run() once, from one thread; stop() and reload() from any thread, any time
// (before run(), stop() makes run() stop as soon as the pipeline started). One Service at a time
// should handle signals.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <scopeflow/service/exit_codes.h>

namespace scopeflow::service {

struct ServiceOptions {
    std::string config_path;                       // the pipeline file (YAML)
    bool monitor_resources = false;                // live view on stderr, refreshed every second
    std::optional<std::string> simulate_failures;  // "SEED": inject seeded faults (as the CLI)
    // SIGTERM/SIGINT stop, SIGHUP reloads, SIGPIPE is ignored; the previous handlers of the
    // first three are restored when run() returns. False: only stop() and reload() act.
    bool handle_signals = true;
};

class Service {
public:
    explicit Service(ServiceOptions options);
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;
    ~Service();

    // Runs until the input ends, stop(), or a signal; returns an exit code (exit_codes.h).
    [[nodiscard]] int run();
    // As SIGTERM: stop reading, drain, commit, close everything. Returns at once.
    void stop() noexcept;
    // As SIGHUP: build the file again and swap pipelines (a bad file is logged and ignored).
    void reload() noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Service(options with config_path = path).run().
[[nodiscard]] int run_file(const std::string& path, ServiceOptions options = {});

// `scopeflow check FILE`: parses and builds the file without opening anything. Prints
// "FILE: ok (...)" on stdout or the error (file:line: path: message) on stderr; returns kExitOk
// or kExitBadConfig.
[[nodiscard]] int check_file(const std::string& path);

}  // namespace scopeflow::service
