// Scope open + 3 adopts + close, against the same work done by a hand-written RAII struct,
// measured in the same run; ledger on and off; as a root scope and as a task scope under a
// long-lived parent.
//
//   build/bench/scope_benchmark [iterations] [rounds]
//   build/bench/scope_benchmark --only K [iterations]   # one case of the buffer table, for
//       valgrind --tool=callgrind (instruction counts are repeatable on a noisy machine)
#include <cstdlib>
#include <memory>
#include <string_view>

#include <fcntl.h>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>

#include "bench_harness.h"

namespace {

using scopeflow::ResourceKind;
using scopeflow::Scope;
using scopeflow::UniqueFd;

scopeflow::Ledger g_ledger;
scopeflow::ResourceMonitor g_monitor(g_ledger, {.log_to_stderr = false});

// Keeps the optimizer from deleting the work.
template <typename T>
void keep(T const& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

// --- workload 1: three file descriptors (/dev/null): the resources are real syscalls ----------
struct FdsByHand {
    UniqueFd a = UniqueFd::open("/dev/null", O_RDONLY);
    UniqueFd b = UniqueFd::open("/dev/null", O_RDONLY);
    UniqueFd c = UniqueFd::open("/dev/null", O_RDONLY);
};

void fds_by_hand(long n) {
    for (long i = 0; i < n; ++i) {
        FdsByHand r;
        keep(r.c.get());
    }
}

void fds_in_scope(long n, bool track, Scope* parent) {
    for (long i = 0; i < n; ++i) {
        Scope s = parent != nullptr ? parent->child("task", {.level = scopeflow::ScopeLevel::task})
                                    : Scope("task", {.monitor = &g_monitor, .track = track});
        s.adopt({"a", ResourceKind::file}, UniqueFd::open("/dev/null", O_RDONLY));
        s.adopt({"b", ResourceKind::file}, UniqueFd::open("/dev/null", O_RDONLY));
        auto& c = s.adopt({"c", ResourceKind::file}, UniqueFd::open("/dev/null", O_RDONLY));
        keep(c.get());
        s.close();
    }
}

// --- workload 2: three 256-byte heap buffers: the cheapest real resources, worst case --------
struct BuffersByHand {
    std::unique_ptr<char[]> a = std::make_unique<char[]>(256);
    std::unique_ptr<char[]> b = std::make_unique<char[]>(256);
    std::unique_ptr<char[]> c = std::make_unique<char[]>(256);
};

void buffers_by_hand(long n) {
    for (long i = 0; i < n; ++i) {
        BuffersByHand r;
        keep(r.c.get());
    }
}

void buffers_in_scope(long n, bool track, Scope* parent) {
    for (long i = 0; i < n; ++i) {
        Scope s = parent != nullptr ? parent->child("task", {.level = scopeflow::ScopeLevel::task})
                                    : Scope("task", {.monitor = &g_monitor, .track = track});
        s.adopt({"a", ResourceKind::buffer_bytes, 256}, std::make_unique<char[]>(256));
        s.adopt({"b", ResourceKind::buffer_bytes, 256}, std::make_unique<char[]>(256));
        auto& c = s.adopt({"c", ResourceKind::buffer_bytes, 256}, std::make_unique<char[]>(256));
        keep(c.get());
        s.close();
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2 && std::string_view(argv[1]) == "--only") {
        Scope parent("worker", {.monitor = &g_monitor});
        const long n = argc > 3 ? std::atol(argv[3]) : 100'000;
        switch (std::atoi(argv[2])) {
            case 0:
                buffers_by_hand(n);
                break;
            case 1:
                buffers_in_scope(n, true, nullptr);
                break;
            case 2:
                buffers_in_scope(n, false, nullptr);
                break;
            default:
                buffers_in_scope(n, true, &parent);
                break;
        }
        return 0;
    }
    const long iterations = argc > 1 ? std::atol(argv[1]) : 200'000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    Scope tracked_parent("worker", {.monitor = &g_monitor, .track = true});
    Scope untracked_parent("worker", {.monitor = &g_monitor, .track = false});
    using scopeflow::bench::Case;

    std::printf("scope_benchmark: %ld iterations x %d rounds, median ns per scope lifecycle\n",
                iterations, rounds);
    print_table(
        "3 file descriptors (open /dev/null x3, close x3)",
        scopeflow::bench::run_interleaved(
            {
                Case{"hand-written RAII struct (baseline)", fds_by_hand},
                Case{"root scope, ledger on", [](long n) { fds_in_scope(n, true, nullptr); }},
                Case{"root scope, ledger off", [](long n) { fds_in_scope(n, false, nullptr); }},
                Case{"task scope under a worker, ledger on",
                     [&](long n) { fds_in_scope(n, true, &tracked_parent); }},
                Case{"task scope under a worker, ledger off",
                     [&](long n) { fds_in_scope(n, false, &untracked_parent); }},
            },
            iterations, rounds));
    print_table(
        "3 heap buffers (256 B each): worst case, the resource itself costs almost nothing",
        scopeflow::bench::run_interleaved(
            {
                Case{"hand-written RAII struct (baseline)", buffers_by_hand},
                Case{"root scope, ledger on", [](long n) { buffers_in_scope(n, true, nullptr); }},
                Case{"root scope, ledger off", [](long n) { buffers_in_scope(n, false, nullptr); }},
                Case{"task scope under a worker, ledger on",
                     [&](long n) { buffers_in_scope(n, true, &tracked_parent); }},
                Case{"task scope under a worker, ledger off",
                     [&](long n) { buffers_in_scope(n, false, &untracked_parent); }},
            },
            iterations, rounds));
    return 0;
}
