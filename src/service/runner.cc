#include "service/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>

#include "service/admin.h"
#include "service/builder.h"
#include "service/config.h"
#include "service/current.h"
#include "service/exit_codes.h"
#include "service/logging.h"
#include "service/monitor_view.h"
#include "service/process_info.h"

namespace scopeflow::service {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
    g_signal.store(sig);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sigaction(sig, &sa, nullptr);
    }
    std::signal(SIGPIPE, SIG_IGN);  // NOLINT: a closed peer socket is an error, not a death
}

FaultPhase phase_of(const std::string& s) {
    if (s == "acquire") {
        return FaultPhase::acquire;
    }
    return s == "release" ? FaultPhase::release : FaultPhase::use;
}

// Arms the config's failure rules; --simulate-failures[=SEED] sets the seed and, when the file
// has no rules, fails 2% of resource acquisitions (leases, files, buffers) anywhere.
bool arm(FaultInjector& faults, const FailuresSection& f, bool simulate) {
    for (const FailureRule& r : f.rules) {
        faults.arm({.phase = phase_of(r.phase),
                    .point = r.point,
                    .nth = r.nth,
                    .probability = r.probability});
    }
    if (simulate && f.rules.empty()) {
        faults.arm({.phase = FaultPhase::acquire, .point = "*", .probability = 0.02});
    }
    return simulate || !f.rules.empty();
}

// One running pipeline with everything it owns. Destroyed in reverse order of declaration:
// pipeline (workers joined, stages closed), then the source, then the resources' last users
// go, then the scope closes what is left.
struct Generation {
    std::uint64_t number = 0;
    ServiceConfig cfg;
    std::unique_ptr<FaultInjector> faults;
    std::unique_ptr<Scope> scope;
    Built built;
    std::unique_ptr<Pipeline> pipeline;

    ~Generation() {
        pipeline.reset();
        built.source.reset();
        if (built.resources) {
            built.resources->clear();
        }
        scope.reset();
    }
};

std::unique_ptr<Generation> make_generation(ServiceConfig cfg,
                                            std::uint64_t number,
                                            const std::optional<std::string>& simulate) {
    auto gen = std::make_unique<Generation>();
    gen->number = number;
    gen->cfg = std::move(cfg);
    if (simulate) {
        try {
            gen->cfg.failures.seed = std::stoull(*simulate);
        } catch (const std::exception&) {
            throw ConfigError("--simulate-failures",
                              "expected a seed (a whole number), got '" + *simulate + "'");
        }
    }
    gen->faults = std::make_unique<FaultInjector>(gen->cfg.failures.seed);
    const bool armed = arm(*gen->faults, gen->cfg.failures, simulate.has_value());
    gen->built = build(gen->cfg);
    gen->scope = std::make_unique<Scope>(
        "gen-" + std::to_string(number),
        ScopeOptions{.level = ScopeLevel::pipeline, .faults = armed ? gen->faults.get() : nullptr});
    gen->pipeline = std::make_unique<Pipeline>("main", std::move(gen->built.graph),
                                               *gen->built.source, gen->built.pipeline);
    return gen;
}

// Logs each change in what keeps a stage or the source from making progress (a sink waiting
// for disk space): a warning when it starts or its reason changes, an info line when it clears.
class DegradedLog {
public:
    void update(const PipelineStats& s) {
        note("source", s.source_degraded);
        for (const auto& st : s.stages) {
            note("stage '" + st.name + "'", st.degraded);
        }
    }

private:
    void note(const std::string& who, const std::string& reason) {
        std::string& last = last_[who];
        if (reason == last) {
            return;
        }
        if (reason.empty()) {
            spdlog::info("{} recovered", who);
        } else {
            spdlog::warn("{} degraded: {}", who, reason);
        }
        last = reason;
    }

    std::map<std::string, std::string> last_;
};

void log_stats(const Pipeline& p, std::uint64_t generation) {
    const PipelineStats s = p.stats();
    spdlog::info(
        "pipeline 'main' (generation {}): read {}, completed {}, dropped {}, "
        "dead-lettered {}, failed {}, interrupted {}, acked {}, nacked {}",
        generation, s.read, s.completed, s.dropped, s.dead_lettered, s.failed, s.interrupted,
        s.acked, s.nacked);
}

// Drains a generation within the deadline. False: workers are stuck (reported).
bool drain(Generation& gen) {
    if (gen.pipeline->drain(gen.cfg.service.shutdown_timeout)) {
        return true;
    }
    for (const std::string& busy : gen.pipeline->busy_workers()) {
        spdlog::error("stuck at shutdown: {}", busy);
    }
    log_stats(*gen.pipeline, gen.number);
    return false;
}

// Stops and closes a generation; false when it failed, or when events failed with nowhere to
// go (no dead-letter stage took them: each kind was logged as it happened).
bool finish(std::unique_ptr<Generation> gen, CurrentGeneration& current) {
    bool ok = true;
    try {
        gen->pipeline->wait();
    } catch (const std::exception&) {
        spdlog::error("pipeline failed: {}", describe(std::current_exception()));
        ok = false;
    }
    log_stats(*gen->pipeline, gen->number);
    if (const std::uint64_t failed = gen->pipeline->stats().failed; failed > 0) {
        spdlog::error(
            "pipeline 'main' (generation {}): {} event(s) failed with no route (no dead-letter "
            "stage took them); they were nacked",
            gen->number, failed);
        ok = false;
    }
    current.set(nullptr, nullptr);
    gen.reset();
    return ok;
}

[[noreturn]] void force_exit() {
    spdlog::error("shutdown deadline passed: exiting with the work above still in flight");
    spdlog::shutdown();
    std::fflush(stderr);
    std::_Exit(kExitForced);
}

}  // namespace

int check_config(const std::string& path) {
    try {
        const ServiceConfig cfg = load_config(path);
        Built built = build(cfg);
        (void)admin_server_options(cfg.service.admin == "off" ? "x:0" : cfg.service.admin,
                                   cfg.lines.locate("service.admin"));
        std::printf("%s: ok (%zu resources, source %s, %zu stages, %zu workers)\n", path.c_str(),
                    cfg.resources.size(), cfg.source.type.c_str(), cfg.graph.stages.size(),
                    cfg.graph.workers);
        return kExitOk;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return kExitBadConfig;
    }
}

int run_service(const RunOptions& options) {
    const ProcessInfo at_start = read_process_info();
    std::unique_ptr<Generation> gen;
    std::uint64_t generation = 1;
    try {
        ServiceConfig cfg = load_config(options.config_path);
        init_logging(cfg.service.log_format, cfg.service.log_level);
        gen = make_generation(std::move(cfg), generation, options.simulate_failures);
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitBadConfig;
    }
    install_signal_handlers();

    CurrentGeneration current;
    std::unique_ptr<AdminServer> admin;
    if (gen->cfg.service.admin != "off") {
        try {
            admin = std::make_unique<AdminServer>(gen->cfg.service.admin, current);
            admin->start();
            spdlog::info("admin endpoint on http://{}:{}/ (metrics, healthz, readyz, resources)",
                         gen->cfg.service.admin.substr(0, gen->cfg.service.admin.rfind(':')),
                         admin->port());
        } catch (const ConfigError& e) {
            spdlog::error("{}", gen->cfg.lines.located(e).what());
            return kExitBadConfig;
        } catch (const std::exception& e) {
            spdlog::error("admin endpoint: {}", e.what());
            return kExitFailure;
        }
    }
    std::unique_ptr<MonitorView> monitor;
    if (options.monitor_resources) {
        monitor = std::make_unique<MonitorView>(current);
    }

    int code = kExitOk;
    try {
        gen->pipeline->start(*gen->scope);
    } catch (const std::exception&) {
        spdlog::error("pipeline failed to start: {}",
                      describe_start_failure(gen->cfg, gen->pipeline->failed_to_open(),
                                             std::current_exception()));
        gen.reset();
        return kExitFailure;
    }
    current.set(gen->pipeline.get(), gen->built.probes);
    spdlog::info("running {} ({} workers)", options.config_path, gen->cfg.graph.workers);

    bool stopping = false;
    auto next_progress = std::chrono::steady_clock::now() + gen->cfg.service.progress_interval;
    std::uint64_t last_read = 0;
    DegradedLog degraded;
    while (gen && !gen->pipeline->workers_done(100ms)) {
        degraded.update(gen->pipeline->stats());
        if (const auto now = std::chrono::steady_clock::now();
            gen->cfg.service.progress_interval.count() > 0 && now >= next_progress) {
            const PipelineStats s = gen->pipeline->stats();
            const double secs =
                std::chrono::duration<double>(gen->cfg.service.progress_interval).count();
            spdlog::info(
                "progress: read {} ({:.0f}/s), completed {}, dead-lettered {}, "
                "dropped {}, nacked {}",
                s.read, static_cast<double>(s.read - std::min(s.read, last_read)) / secs,
                s.completed, s.dead_lettered, s.dropped, s.nacked);
            last_read = s.read;
            next_progress = now + gen->cfg.service.progress_interval;
        }
        const int sig = g_signal.exchange(0);
        if (sig == SIGTERM || sig == SIGINT) {
            spdlog::info("signal {}: draining (deadline {}ms)", sig,
                         gen->cfg.service.shutdown_timeout.count());
            stopping = true;
            if (!drain(*gen)) {
                force_exit();
            }
        } else if (sig == SIGHUP && !stopping) {
            spdlog::info("SIGHUP: reloading {}", options.config_path);
            std::unique_ptr<Generation> next;
            try {
                ServiceConfig cfg = load_config(options.config_path);
                next = make_generation(std::move(cfg), generation + 1, options.simulate_failures);
            } catch (const ConfigError& e) {
                spdlog::error("reload rejected, the running pipeline continues: {}", e.what());
                current.count_reload(false);
                continue;
            }
            // The old generation drains and commits its progress first, so the new one resumes
            // exactly where it stopped (a file source reads no line twice, loses none).
            if (!drain(*gen)) {
                force_exit();
            }
            ServiceConfig old_cfg = gen->cfg;
            if (!finish(std::move(gen), current)) {
                code = kExitFailure;
            }
            try {
                next->pipeline->start(*next->scope);
                gen = std::move(next);
                ++generation;
                current.count_reload(true);
                spdlog::info("reloaded: generation {} running", generation);
            } catch (const std::exception&) {
                spdlog::error("new pipeline failed to start ({}); restarting the previous one",
                              describe_start_failure(next->cfg, next->pipeline->failed_to_open(),
                                                     std::current_exception()));
                next.reset();
                current.count_reload(false);
                try {
                    gen = make_generation(std::move(old_cfg), ++generation,
                                          options.simulate_failures);
                    gen->pipeline->start(*gen->scope);
                } catch (const std::exception&) {
                    spdlog::error("the previous pipeline failed to restart: {}",
                                  describe(std::current_exception()));
                    gen.reset();
                    code = kExitFailure;
                    break;
                }
            }
            current.set(gen->pipeline.get(), gen->built.probes);
        }
    }
    if (gen && !finish(std::move(gen), current)) {
        code = kExitFailure;
    }
    monitor.reset();
    if (admin) {
        admin->close();
        admin.reset();
    }

    // The exit report: anything still live is a leak.
    const std::uint64_t live = Ledger::global().live_total();
    ProcessInfo at_end = read_process_info();
    // A descriptor another thread holds for an instant (a runtime's own pipe, such as the one
    // UBSan opens to probe memory) is not a leak: a count above the start is read again, and a
    // leak is what stays across three reads 10 ms apart.
    for (int i = 0; i < 2 && at_end.open_fds > at_start.open_fds; ++i) {
        std::this_thread::sleep_for(10ms);
        const ProcessInfo again = read_process_info();
        at_end.open_fds = std::min(at_end.open_fds, again.open_fds);
    }
    const std::uint64_t leaked_fds =
        at_end.open_fds > at_start.open_fds ? at_end.open_fds - at_start.open_fds : 0;
    const auto reports = ResourceMonitor::global().snapshot().reports;
    spdlog::info(
        "exit report: live resources {}, extra fds {}, child processes {}, leak reports "
        "{}, stuck reports {}",
        live, leaked_fds, at_end.children, reports[static_cast<std::size_t>(ReportKind::leak)],
        reports[static_cast<std::size_t>(ReportKind::stuck)]);
    if (live != 0 || leaked_fds != 0 || at_end.children != 0) {
        for (const auto& e : Ledger::global().snapshot().entries) {
            spdlog::error("leaked: {} '{}' owned by {} (acquired at {})", to_string(e.kind), e.name,
                          e.owner_path, e.site);
        }
        return code == kExitOk ? kExitLeaked : code;
    }
    return code;
}

}  // namespace scopeflow::service
