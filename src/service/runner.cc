#include "service/runner.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include <scopeflow/error.h>
#include <scopeflow/fault_injector.h>
#include <scopeflow/ledger.h>
#include <scopeflow/pipeline.h>
#include <scopeflow/resource_monitor.h>
#include <scopeflow/scope.h>

#include "service/builder.h"
#include "service/config.h"
#include "service/exit_codes.h"
#include "service/logging.h"

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

void arm(FaultInjector& faults, const FailuresSection& f) {
    for (const FailureRule& r : f.rules) {
        faults.arm({.phase = phase_of(r.phase),
                    .point = r.point,
                    .nth = r.nth,
                    .probability = r.probability});
    }
}

// One running pipeline with everything it owns: resources, source, graph, scope.
struct Generation {
    ServiceConfig cfg;
    Built built;
    std::unique_ptr<Scope> scope;
    std::unique_ptr<Pipeline> pipeline;
};

void log_stats(const Pipeline& p) {
    const PipelineStats s = p.stats();
    spdlog::info(
        "pipeline '{}': read {}, completed {}, dropped {}, dead-lettered {}, failed {}, "
        "acked {}, nacked {}",
        p.name(), s.read, s.completed, s.dropped, s.dead_lettered, s.failed, s.acked, s.nacked);
}

}  // namespace

int check_config(const std::string& path) {
    try {
        const ServiceConfig cfg = load_config(path);
        Built built = build(cfg);
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
    Generation gen;
    try {
        gen.cfg = load_config(options.config_path);
        init_logging(gen.cfg.service.log_format, gen.cfg.service.log_level);
        gen.built = build(gen.cfg);
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitBadConfig;
    }
    install_signal_handlers();

    FaultInjector faults(gen.cfg.failures.seed);
    arm(faults, gen.cfg.failures);
    Ledger& ledger = Ledger::global();
    int code = kExitOk;
    {
        Scope root("scopeflow", {.level = ScopeLevel::pipeline,
                                 .faults = gen.cfg.failures.rules.empty() ? nullptr : &faults});
        gen.pipeline = std::make_unique<Pipeline>("main", std::move(gen.built.graph),
                                                  *gen.built.source, gen.built.pipeline);
        try {
            gen.pipeline->start(root);
            spdlog::info("running {} ({} workers)", options.config_path, gen.cfg.graph.workers);
            while (!gen.pipeline->workers_done(100ms)) {
                const int sig = g_signal.exchange(0);
                if (sig == SIGTERM || sig == SIGINT) {
                    spdlog::info("signal {}: draining (deadline {}ms)", sig,
                                 gen.cfg.service.shutdown_timeout.count());
                    if (!gen.pipeline->drain(gen.cfg.service.shutdown_timeout)) {
                        for (const std::string& busy : gen.pipeline->busy_workers()) {
                            spdlog::error("stuck at shutdown: {}", busy);
                        }
                        log_stats(*gen.pipeline);
                        spdlog::error("shutdown deadline passed: exiting with work in flight");
                        spdlog::shutdown();
                        std::_Exit(kExitForced);
                    }
                } else if (sig == SIGHUP) {
                    spdlog::warn("SIGHUP: reload is not supported yet; keeping the pipeline");
                }
            }
            gen.pipeline->wait();
        } catch (const std::exception& e) {
            spdlog::error("pipeline failed: {}", describe(std::current_exception()));
            code = kExitFailure;
        }
        log_stats(*gen.pipeline);
        gen.pipeline.reset();
        gen.built.resources->clear();
    }
    const std::uint64_t live = ledger.live_total();
    if (live != 0) {
        spdlog::error("{} resource(s) still live at exit", live);
        return code == kExitOk ? kExitLeaked : code;
    }
    spdlog::info("exit: no resource leaked");
    return code;
}

}  // namespace scopeflow::service
