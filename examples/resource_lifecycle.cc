// resource_lifecycle: the seed example's graph, run for real with the resources the ownership
// core can own today (files, temp files, buffers, pipes, a child process, a thread).
//
//   Reader (data file) -> Processor (temp file + buffer) -> Uploader (pipe to a child process)
//
// Scopes: service > pipeline > one stage scope per node (open once) > a task scope per batch.
// The uploader's "server" is a real child process (sha256sum) fed through a pipe, reaped on
// close. --simulate-failures injects seeded faults at every acquire/use/release point and the
// run shows each failure being cleaned up; --monitor-resources prints the ledger while it runs.
// The run ends with a leak report (ledger, descriptors, temp files, child processes) and exits
// non-zero if anything leaked. The database and HTTP connectors arrive with later issues.
//
// usage: resource_lifecycle [--simulate-failures[=SEED]] [--monitor-resources] [--batches N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <scopeflow/process/child_process.h>
#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using scopeflow::ResourceKind;
using scopeflow::Scope;
using scopeflow::UniqueFd;

int count_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) {
            n += e->d_name[0] != '.' ? 1 : 0;
        }
        ::closedir(d);
    }
    return n - 1;
}

// Feeds `data` to the child's stdin; a short write is a transient failure of the upload.
void upload(scopeflow::ChildProcess& child, const std::string& data) {
    if (::write(child.stdin_fd().get(), data.data(), data.size()) !=
        static_cast<ssize_t>(data.size())) {
        throw scopeflow::TransientError("upload: short write to " + child.program());
    }
}

// Children of this process still around (running or zombie), from /proc: every thread's list.
int live_children() {
    int n = 0;
    for (const auto& task : fs::directory_iterator("/proc/self/task")) {
        std::ifstream f(task.path() / "children");
        int pid = 0;
        while (f >> pid) {
            ++n;
        }
    }
    return n;
}

struct Options {
    bool simulate_failures = false;
    std::uint64_t seed = 7;
    bool monitor = false;
    int batches = 20;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--simulate-failures") {
            o.simulate_failures = true;
        } else if (a.rfind("--simulate-failures=", 0) == 0) {
            o.simulate_failures = true;
            o.seed = std::stoull(a.substr(std::strlen("--simulate-failures=")));
        } else if (a == "--monitor-resources") {
            o.monitor = true;
        } else if (a == "--batches" && i + 1 < argc) {
            o.batches = std::stoi(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: resource_lifecycle [--simulate-failures[=SEED]] "
                         "[--monitor-resources] [--batches N]\nunknown argument '%s'\n",
                         a.c_str());
            std::exit(2);
        }
    }
    return o;
}

void print_monitor(const scopeflow::ResourceMonitor& monitor) {
    const auto snap = monitor.snapshot();
    std::string line = "monitor: live";
    for (std::size_t k = 0; k < scopeflow::kResourceKindCount; ++k) {
        if (snap.ledger.by_kind[k].entries > 0) {
            line += " " + std::string(scopeflow::kResourceKindNames[k]) + "=" +
                    std::to_string(k == static_cast<std::size_t>(ResourceKind::buffer_bytes)
                                       ? snap.ledger.by_kind[k].amount
                                       : snap.ledger.by_kind[k].entries);
        }
    }
    line += " fds=" + std::to_string(count_fds());
    std::printf("%s\n", line.c_str());
    for (const auto& owner : snap.ledger.by_owner) {
        std::printf("monitor:   %-40s %-12s %llu\n", owner.owner_path.c_str(),
                    std::string(to_string(owner.kind)).c_str(),
                    static_cast<unsigned long long>(owner.count.entries));
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    scopeflow::Ledger& ledger = scopeflow::Ledger::global();
    scopeflow::ResourceMonitor& monitor = scopeflow::ResourceMonitor::global();
    scopeflow::FaultInjector faults(opt.seed);
    if (opt.simulate_failures) {
        for (auto phase : {scopeflow::FaultPhase::acquire, scopeflow::FaultPhase::use,
                           scopeflow::FaultPhase::release}) {
            faults.arm({.phase = phase, .point = "*", .probability = 0.04});
        }
    }
    const fs::path work =
        fs::temp_directory_path() / ("scopeflow-demo-" + std::to_string(::getpid()));
    fs::create_directories(work);
    const int fds_before = count_fds();

    int batches_ok = 0;
    int batches_failed = 0;
    int records_uploaded = 0;
    bool pipeline_failed = false;
    {
        Scope service("service", {.level = scopeflow::ScopeLevel::service,
                                  .faults = opt.simulate_failures ? &faults : nullptr,
                                  .close_timeout = 2s});
        // Source data, written once: the "table" the reader pages through.
        {
            std::FILE* f = std::fopen((work / "orders.csv").c_str(), "w");
            for (int i = 0; i < opt.batches * 10; ++i) {
                std::fprintf(f, "%d,customer-%d,%d.%02d\n", i, i % 17, i * 3, i % 100);
            }
            std::fclose(f);
        }
        try {
            Scope pipeline = service.child("pipeline", {.level = scopeflow::ScopeLevel::pipeline});
            // Open once per stage ("open once, use many times, close once").
            Scope reader =
                pipeline.child("DatabaseReader", {.level = scopeflow::ScopeLevel::stage});
            auto& table = reader.open({"orders.csv", ResourceKind::file}, [&] {
                return UniqueFd::open((work / "orders.csv").string(), O_RDONLY);
            });
            Scope processor =
                pipeline.child("FileProcessor", {.level = scopeflow::ScopeLevel::stage});
            auto& spool = processor.open({"spool.tmp", ResourceKind::file}, [&] {
                return UniqueFd::open((work / "spool.tmp").string(), O_RDWR | O_CREAT | O_TRUNC);
            });
            processor.defer({"remove spool.tmp"}, [&] { fs::remove(work / "spool.tmp"); });
            Scope uploader = pipeline.child("ApiUploader", {.level = scopeflow::ScopeLevel::stage});
            // The "API server": a real child process, reaped when the uploader's scope closes.
            auto& child = uploader.open({"sha256sum", ResourceKind::process}, [&] {
                return scopeflow::ChildProcess::spawn({.argv = {"sha256sum"}});
            });

            std::jthread ticker;
            if (opt.monitor) {
                ticker = std::jthread([&](std::stop_token st) {
                    while (!st.stop_requested()) {
                        print_monitor(monitor);
                        std::this_thread::sleep_for(100ms);
                    }
                });
            }
            for (int b = 0; b < opt.batches; ++b) {
                // One task scope per batch: per-batch resources end with the batch, on every path.
                Scope task = uploader.child("batch-" + std::to_string(b),
                                            {.level = scopeflow::ScopeLevel::task});
                try {
                    task.run([&](Scope& t) {
                        auto& buf = t.adopt({"batch buffer", ResourceKind::buffer_bytes, 4096},
                                            std::string(4096, '\0'));
                        t.fault_point("read");
                        const ssize_t n =
                            ::pread(table.get(), buf.data(), 400, static_cast<off_t>(b) * 400);
                        if (n < 0) {
                            throw scopeflow::TransientError("read failed");
                        }
                        buf.resize(static_cast<std::size_t>(n));
                        t.fault_point("spool");
                        if (::write(spool.get(), buf.data(), buf.size()) < 0) {
                            throw scopeflow::TransientError("spool write failed");
                        }
                        t.fault_point("upload");
                        upload(child, buf);
                    });
                    ++batches_ok;
                    records_uploaded += 10;
                } catch (const std::exception& e) {
                    ++batches_failed;
                    std::printf("batch %d failed, its resources released: %s\n", b,
                                scopeflow::describe(std::current_exception()).c_str());
                }
                std::this_thread::sleep_for(opt.monitor ? 20ms : 0ms);
            }
            ticker = {};
            pipeline.close();
        } catch (const std::exception&) {
            pipeline_failed = true;
            std::printf("pipeline failed: %s\n",
                        scopeflow::describe(std::current_exception()).c_str());
        }
        try {
            service.close();
        } catch (const std::exception&) {
            std::printf("service close: %s\n",
                        scopeflow::describe(std::current_exception()).c_str());
        }
    }
    std::error_code ec;
    fs::remove(work / "orders.csv", ec);
    const bool temp_left = fs::exists(work / "spool.tmp");
    fs::remove_all(work, ec);

    const auto snap = monitor.snapshot();
    const int fds_leaked = count_fds() - fds_before;
    const int zombies = live_children();
    std::printf("\n== report\n");
    std::printf("batches ok %d, failed %d, records uploaded %d%s\n", batches_ok, batches_failed,
                records_uploaded, pipeline_failed ? " (pipeline failed)" : "");
    std::printf("faults injected %llu\n", static_cast<unsigned long long>(faults.fired()));
    std::printf("cleanup errors reported %llu, stuck %llu, leaks %llu\n",
                static_cast<unsigned long long>(snap.reports[0]),
                static_cast<unsigned long long>(snap.reports[1]),
                static_cast<unsigned long long>(snap.reports[2]));
    std::printf("leaked: ledger %llu, fds %d, temp files %d, child processes %d\n",
                static_cast<unsigned long long>(ledger.live_total()), fds_leaked, temp_left ? 1 : 0,
                zombies);
    const bool leaked = ledger.live_total() != 0 || fds_leaked != 0 || temp_left || zombies != 0;
    std::printf("%s\n", leaked ? "RESULT: LEAKED" : "RESULT: clean");
    return leaked ? 1 : 0;
}
