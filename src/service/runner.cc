// The `scopeflow run` service (include/scopeflow/service/service.h): a start-up ladder into one
// root scope, "service", and the loop that watches the running pipeline, signals and requests.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/scope_guard.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/service/service.h>

#include "service/admin.h"
#include "service/builder.h"
#include "service/config.h"
#include "service/current.h"
#include "service/logging.h"
#include "service/monitor_view.h"
#include "service/process_info.h"
#include "service/scope_tree.h"

namespace scopeflow::service {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
    g_signal.store(sig);
}

// The service's signal handlers, a piece of the ladder: SIGTERM/SIGINT/SIGHUP set a flag the
// run loop reads; the handlers they replaced are restored when the service stops. SIGPIPE stays
// ignored: a closed peer socket is an error, not a death, also for a late write after the stop.
class SignalHandlers {
public:
    SignalHandlers() {
        g_signal.store(0);
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            sigaction(kSignals[i], &sa, &previous_[i]);
        }
        std::signal(SIGPIPE, SIG_IGN);  // NOLINT(cert-err33-c): cannot fail for SIGPIPE
    }
    SignalHandlers(const SignalHandlers&) = delete;
    SignalHandlers& operator=(const SignalHandlers&) = delete;
    ~SignalHandlers() {
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            sigaction(kSignals[i], &previous_[i], nullptr);
        }
    }

private:
    static constexpr std::array<int, 3> kSignals{SIGTERM, SIGINT, SIGHUP};
    std::array<struct sigaction, 3> previous_{};
};

// What the service scope released, in the order it released it, for the exit report. Pieces
// record themselves when released, from whichever thread closes their scope.
class ReleaseLog {
public:
    void released(const std::string& scope_path, const std::string& piece) {
        std::lock_guard lock(mu_);
        if (recorded_ == kMaxRecorded) {
            ++dropped_;
            return;
        }
        tree_.add(scope_path, piece);
        ++recorded_;
    }
    [[nodiscard]] bool empty() const {
        std::lock_guard lock(mu_);
        return recorded_ == 0;
    }
    // "service { gen-1 { pipeline, source, resources, fault injector }, admin endpoint, ... }"
    [[nodiscard]] std::string text() const {
        std::lock_guard lock(mu_);
        std::string t = tree_.text();
        if (dropped_ > 0) {
            t += " (and " + std::to_string(dropped_) + " more)";
        }
        return t;
    }

private:
    static constexpr std::size_t kMaxRecorded = 256;  // a service reloaded all year stays small
    mutable std::mutex mu_;
    ScopeTree tree_;            // guarded by mu_
    std::size_t recorded_ = 0;  // guarded by mu_
    std::size_t dropped_ = 0;   // guarded by mu_
};

// Registers `stop` as the piece `info.name` of `scope`: it runs when the scope closes, in reverse
// order with the scope's other pieces and resources, and is recorded in `log` once it ran.
template <typename F>
void on_stop(Scope& scope, ReleaseLog& log, const ResourceInfo& info, F stop) {
    scope.defer(info, [stop = std::move(stop), &log, path = scope.path(),
                       name = std::string(info.name)]() mutable {
        auto record = ScopeGuard([&] { log.released(path, name); });
        stop();
    });
}

// Hands `object` to `scope` as the piece `info.name`, destroyed when the scope closes.
template <typename T>
T& own(Scope& scope, ReleaseLog& log, const ResourceInfo& info, std::unique_ptr<T> object) {
    T& ref = *object;
    on_stop(scope, log, info, [o = std::move(object)]() mutable { o.reset(); });
    return ref;
}

FaultPhase phase_of(const std::string& s) {
    if (s == "acquire") {
        return FaultPhase::acquire;
    }
    return s == "release" ? FaultPhase::release : FaultPhase::use;
}

// --simulate-failures=SEED replaces the file's seed.
ServiceConfig with_seed(ServiceConfig cfg, const std::optional<std::string>& simulate) {
    if (simulate) {
        try {
            cfg.failures.seed = std::stoull(*simulate);
        } catch (const std::exception&) {
            throw ConfigError("--simulate-failures",
                              "expected a seed (a whole number), got '" + *simulate + "'");
        }
    }
    return cfg;
}

// Arms the config's failure rules; --simulate-failures[=SEED] sets the seed and, when the file
// has no rules, fails 2% of resource acquisitions (leases, files, buffers) anywhere.
void arm(FaultInjector& faults, const FailuresSection& f, bool simulate) {
    for (const FailureRule& r : f.rules) {
        faults.arm({.phase = phase_of(r.phase),
                    .point = r.point,
                    .nth = r.nth,
                    .probability = r.probability});
    }
    if (simulate && f.rules.empty()) {
        faults.arm({.phase = FaultPhase::acquire, .point = "*", .probability = 0.02});
    }
}

// One pipeline generation: the child scope "gen-N" of the service scope, holding (in start
// order) its fault injector, resources, source and pipeline. A reload closes one generation and
// opens the next. Closing stops the pipeline (if it runs and was not waited for) before the
// scope closes, since the scope closes its children (the pipeline's own scopes, which the
// workers use) before its own pieces.
class Generation {
public:
    // Builds the file's pipeline; opens nothing (resources connect on first use). Throws
    // ConfigError.
    Generation(Scope& service,
               ReleaseLog& log,
               ServiceConfig cfg,
               std::uint64_t number,
               const std::optional<std::string>& simulate)
        : number_(number),
          cfg_(with_seed(std::move(cfg), simulate)),
          injector_(std::make_unique<FaultInjector>(cfg_.failures.seed)),
          scope_(service.child(
              "gen-" + std::to_string(number),
              {.level = ScopeLevel::pipeline,
               .faults = simulate || !cfg_.failures.rules.empty() ? injector_.get() : nullptr})) {
        FaultInjector& faults = own(*scope_, log, {.name = "fault injector"}, std::move(injector_));
        Built built = build(cfg_);
        probes_ = built.probes;
        on_stop(*scope_, log, {.name = "resources"}, [resources = built.resources] {
            if (resources) {
                resources->clear();  // each closes when its last user lets go
            }
        });
        Source& source = own(*scope_, log, {.name = "source"}, std::move(built.source));
        pipeline_ = &own(
            *scope_, log, {.name = "pipeline"},
            std::make_unique<Pipeline>("main", std::move(built.graph), source, built.pipeline));
        // Armed last: no rule fires on the four adoptions above (they are the service's, not
        // the pipeline's); a "*" rule with nth still counts them, since ordinals count every
        // hit from the injector's creation.
        arm(faults, cfg_.failures, simulate.has_value());
    }
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;
    ~Generation() { close(); }

    void start() {
        pipeline_->start(*scope_);
        running_ = true;
    }

    // Waits for the pipeline to end (after the input ended, a drain or a stop); throws what
    // failed it.
    void wait() {
        running_ = false;
        pipeline_->wait();
    }

    // Releases the generation; never throws (cleanup failures go to the monitor).
    void close() noexcept {
        if (running_) {
            running_ = false;
            pipeline_->request_stop();
            try {
                pipeline_->wait();
            } catch (...) {
                spdlog::error("pipeline failed: {}", describe(std::current_exception()));
            }
        }
        scope_.reset();
    }

    [[nodiscard]] std::uint64_t number() const noexcept { return number_; }
    [[nodiscard]] const ServiceConfig& cfg() const noexcept { return cfg_; }
    [[nodiscard]] Pipeline& pipeline() noexcept { return *pipeline_; }
    [[nodiscard]] const std::shared_ptr<Probes>& probes() const noexcept { return probes_; }

private:
    std::uint64_t number_;
    ServiceConfig cfg_;
    std::unique_ptr<FaultInjector> injector_;  // handed to the scope in the constructor
    std::optional<Scope> scope_;
    std::shared_ptr<Probes> probes_;
    Pipeline* pipeline_ = nullptr;  // owned by scope_
    bool running_ = false;          // started and not yet waited for
};

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
    if (gen.pipeline().drain(gen.cfg().service.shutdown_timeout)) {
        return true;
    }
    for (const std::string& busy : gen.pipeline().busy_workers()) {
        spdlog::error("stuck at shutdown: {}", busy);
    }
    log_stats(gen.pipeline(), gen.number());
    return false;
}

// Waits for a generation's pipeline and releases the generation; false when it failed, or when
// events failed with nowhere to go (no dead-letter stage took them: each kind was logged as it
// happened).
bool finish(std::unique_ptr<Generation> gen, CurrentGeneration& current) {
    bool ok = true;
    try {
        gen->wait();
    } catch (const std::exception&) {
        spdlog::error("pipeline failed: {}", describe(std::current_exception()));
        ok = false;
    }
    log_stats(gen->pipeline(), gen->number());
    if (const std::uint64_t failed = gen->pipeline().stats().failed; failed > 0) {
        spdlog::error(
            "pipeline 'main' (generation {}): {} event(s) failed with no route (no dead-letter "
            "stage took them); they were nacked",
            gen->number(), failed);
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

// The exit report, once the service scope has closed: what it released (one tree rooted at
// "service"), then anything still live, which is a leak.
int exit_report(const ProcessInfo& at_start, const ReleaseLog& released, int code) {
    spdlog::info("exit report: released {}", released.text());
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
        ScopeTree leaked;
        for (const auto& e : Ledger::global().snapshot().entries) {
            spdlog::error("leaked: {} '{}' owned by {} (acquired at {})", to_string(e.kind), e.name,
                          e.owner_path, e.site);
            leaked.add(e.owner_path, e.name);
        }
        if (!leaked.empty()) {
            spdlog::error("leaked, by scope: {}", leaked.text());
        }
        return code == kExitOk ? kExitLeaked : code;
    }
    return code;
}

enum Request : int { kNoRequest = 0, kStopRequest = 1, kReloadRequest = 2 };

}  // namespace

struct Service::State {
    ServiceOptions options;
    std::atomic<int> requested{kNoRequest};  // stop() / reload(), taken by the run loop

    // The ladder and the loop, inside the service scope. Returns the exit code before the
    // exit report.
    int run_in(Scope& service, ReleaseLog& released, CurrentGeneration& current);
    // The next signal (SIGTERM, SIGINT, SIGHUP) or request (-kStopRequest, -kReloadRequest); 0:
    // none.
    int next_request();
};

int Service::State::next_request() {
    if (options.handle_signals) {
        if (const int sig = g_signal.exchange(0); sig != 0) {
            return sig;
        }
    }
    return -requested.exchange(kNoRequest);
}

int Service::State::run_in(Scope& service, ReleaseLog& released, CurrentGeneration& current) {
    ServiceConfig cfg;
    try {
        cfg = load_config(options.config_path);
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitBadConfig;
    }
    init_logging(cfg.service.log_format, cfg.service.log_level);
    on_stop(service, released, {.name = "logging"}, [] { spdlog::default_logger()->flush(); });
    if (options.handle_signals) {
        own(service, released, {.name = "signal handlers"}, std::make_unique<SignalHandlers>());
    }

    std::uint64_t generation = 1;
    std::unique_ptr<Generation> gen;
    try {
        gen = std::make_unique<Generation>(service, released, std::move(cfg), generation,
                                           options.simulate_failures);
    } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitBadConfig;
    }
    // Readers (admin endpoint, monitor) stop seeing a generation before it is released, on
    // every way out of here.
    auto forget_current = ScopeGuard([&current] { current.set(nullptr, nullptr); });

    if (const std::string& address = gen->cfg().service.admin; address != "off") {
        try {
            auto admin = std::make_unique<AdminServer>(address, current);
            AdminServer& endpoint = *admin;
            on_stop(service, released, {.name = "admin endpoint", .kind = ResourceKind::socket},
                    [admin = std::move(admin)]() mutable {
                        admin->close();
                        admin.reset();
                    });
            endpoint.start();
            spdlog::info("admin endpoint on http://{}:{}/ (metrics, healthz, readyz, resources)",
                         address.substr(0, address.rfind(':')), endpoint.port());
        } catch (const ConfigError& e) {
            spdlog::error("{}", gen->cfg().lines.located(e).what());
            return kExitBadConfig;
        } catch (const std::exception& e) {
            spdlog::error("admin endpoint: {}", e.what());
            return kExitFailure;
        }
    }

    try {
        gen->start();
    } catch (const std::exception&) {
        spdlog::error("pipeline failed to start: {}",
                      describe_start_failure(gen->cfg(), gen->pipeline().failed_to_open(),
                                             std::current_exception()));
        return kExitFailure;
    }
    current.set(&gen->pipeline(), gen->probes());
    spdlog::info("running {} ({} workers)", options.config_path, gen->cfg().graph.workers);

    if (options.monitor_resources) {
        own(service, released, {.name = "monitor", .kind = ResourceKind::thread},
            std::make_unique<MonitorView>(current));
    }

    int code = kExitOk;
    bool stopping = false;
    auto next_progress = std::chrono::steady_clock::now() + gen->cfg().service.progress_interval;
    std::uint64_t last_read = 0;
    DegradedLog degraded;
    while (gen && !gen->pipeline().workers_done(100ms)) {
        degraded.update(gen->pipeline().stats());
        if (const auto now = std::chrono::steady_clock::now();
            gen->cfg().service.progress_interval.count() > 0 && now >= next_progress) {
            const PipelineStats s = gen->pipeline().stats();
            const double secs =
                std::chrono::duration<double>(gen->cfg().service.progress_interval).count();
            spdlog::info(
                "progress: read {} ({:.0f}/s), completed {}, dead-lettered {}, "
                "dropped {}, nacked {}",
                s.read, static_cast<double>(s.read - std::min(s.read, last_read)) / secs,
                s.completed, s.dead_lettered, s.dropped, s.nacked);
            last_read = s.read;
            next_progress = now + gen->cfg().service.progress_interval;
        }
        const int request = next_request();
        if (request == SIGTERM || request == SIGINT || request == -kStopRequest) {
            if (request > 0) {
                spdlog::info("signal {}: draining (deadline {}ms)", request,
                             gen->cfg().service.shutdown_timeout.count());
            } else {
                spdlog::info("stop requested: draining (deadline {}ms)",
                             gen->cfg().service.shutdown_timeout.count());
            }
            stopping = true;
            if (!drain(*gen)) {
                force_exit();
            }
        } else if ((request == SIGHUP || request == -kReloadRequest) && !stopping) {
            spdlog::info("{}: reloading {}", request > 0 ? "SIGHUP" : "reload requested",
                         options.config_path);
            std::unique_ptr<Generation> next;
            try {
                next = std::make_unique<Generation>(service, released,
                                                    load_config(options.config_path),
                                                    generation + 1, options.simulate_failures);
            } catch (const ConfigError& e) {
                spdlog::error("reload rejected, the running pipeline continues: {}", e.what());
                current.count_reload(false);
                continue;
            }
            ++generation;
            // The old generation drains and commits its progress first, so the new one resumes
            // exactly where it stopped (a file source reads no line twice, loses none).
            if (!drain(*gen)) {
                force_exit();
            }
            ServiceConfig old_cfg = gen->cfg();
            if (!finish(std::move(gen), current)) {
                code = kExitFailure;
            }
            try {
                next->start();
                gen = std::move(next);
                current.count_reload(true);
                spdlog::info("reloaded: generation {} running", generation);
            } catch (const std::exception&) {
                spdlog::error("new pipeline failed to start ({}); restarting the previous one",
                              describe_start_failure(next->cfg(), next->pipeline().failed_to_open(),
                                                     std::current_exception()));
                next.reset();
                current.count_reload(false);
                try {
                    gen = std::make_unique<Generation>(service, released, std::move(old_cfg),
                                                       ++generation, options.simulate_failures);
                    gen->start();
                } catch (const std::exception&) {
                    spdlog::error("the previous pipeline failed to restart: {}",
                                  describe(std::current_exception()));
                    gen.reset();
                    code = kExitFailure;
                    break;
                }
            }
            current.set(&gen->pipeline(), gen->probes());
        }
    }
    if (gen && !finish(std::move(gen), current)) {
        code = kExitFailure;
    }
    return code;
}

Service::Service(ServiceOptions options)
    : state_(std::make_unique<State>()) {
    state_->options = std::move(options);
}

Service::~Service() = default;

void Service::stop() noexcept {
    state_->requested.store(kStopRequest);
}

void Service::reload() noexcept {
    int expected = kNoRequest;  // a pending stop wins over a reload
    state_->requested.compare_exchange_strong(expected, kReloadRequest);
}

int Service::run() {
    const ProcessInfo at_start = read_process_info();
    // Declared before the service scope: its pieces (admin endpoint, monitor) read `current`,
    // and record their release in `released`.
    ReleaseLog released;
    CurrentGeneration current;
    int code = kExitOk;
    {
        Scope service("service", {.level = ScopeLevel::service});
        try {
            code = state_->run_in(service, released, current);
        } catch (const std::exception&) {
            spdlog::error("service failed: {}", describe(std::current_exception()));
            code = kExitFailure;
        }
        try {
            service.close();
        } catch (const std::exception&) {
            spdlog::error("closing the service: {}", describe(std::current_exception()));
        }
    }
    if (released.empty()) {
        return code;  // nothing started (the file could not be read)
    }
    return exit_report(at_start, released, code);
}

int run_file(const std::string& path, ServiceOptions options) {
    options.config_path = path;
    return Service(std::move(options)).run();
}

int check_file(const std::string& path) {
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

}  // namespace scopeflow::service
