// Pool<T> lease + return against the simplest correct pool: a mutex around a deque of
// connections. Uncontended (1 thread) and with 2 threads sharing the pool; the owner scope with
// the ledger off (a task scope that does not track) and on (each lease is a ledger ticket).
//
//   build/bench/pool_benchmark [iterations] [rounds]
//   build/bench/pool_benchmark --only K [iterations]   # one case (0..2), for callgrind
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/pool/pool.h>

#include "bench_harness.h"

namespace {

scopeflow::Ledger g_ledger;
scopeflow::ResourceMonitor g_monitor(g_ledger, {.log_to_stderr = false});

template <typename T>
void keep(T const& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

struct Conn {
    int id = 0;
};

// The baseline: what a hand-written pool does at the least, no waiting, no metrics.
class MutexDequePool {
public:
    explicit MutexDequePool(int n) {
        for (int i = 0; i < n; ++i) {
            idle_.push_back(std::make_unique<Conn>(Conn{i}));
        }
    }
    std::unique_ptr<Conn> acquire() {
        std::lock_guard lock(mu_);
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
    }
    void release(std::unique_ptr<Conn> c) {
        std::lock_guard lock(mu_);
        idle_.push_back(std::move(c));
    }

private:
    std::mutex mu_;
    std::deque<std::unique_ptr<Conn>> idle_;
};

using ConnPool = scopeflow::Pool<Conn>;

std::shared_ptr<ConnPool> make_conn_pool() {
    int next = 0;
    auto pool = scopeflow::make_pool<Conn>(
        {.name = "bench", .max_size = 4, .validate_if_idle_for = std::chrono::hours(1)},
        {.connect = [next]() mutable { return Conn{++next}; }});
    // Open the connections up front so the loop measures lease + return only.
    scopeflow::Scope warm("warm", {.monitor = &g_monitor, .track = false});
    std::vector<ConnPool::Lease> leases;
    for (int i = 0; i < 4; ++i) {
        leases.push_back(pool->acquire(warm));
    }
    return pool;
}

void run_threads(int threads, long n, const std::function<void(long)>& body) {
    if (threads == 1) {
        body(n);
        return;
    }
    std::vector<std::jthread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] { body(n / threads); });
    }
}

std::vector<scopeflow::bench::Case> cases(int threads) {
    auto baseline = std::make_shared<MutexDequePool>(4);
    auto pool = make_conn_pool();
    return {
        {"mutex + deque (baseline)",
         [=](long n) {
             run_threads(threads, n, [&](long k) {
                 for (long i = 0; i < k; ++i) {
                     auto c = baseline->acquire();
                     keep(c->id);
                     baseline->release(std::move(c));
                 }
             });
         }},
        {"Pool<T> lease + return, ledger off",
         [=](long n) {
             run_threads(threads, n, [&](long k) {
                 scopeflow::Scope owner("worker", {.monitor = &g_monitor, .track = false});
                 for (long i = 0; i < k; ++i) {
                     auto lease = pool->acquire(owner);
                     keep(lease->id);
                 }
             });
         }},
        {"Pool<T> lease + return, ledger on",
         [=](long n) {
             run_threads(threads, n, [&](long k) {
                 scopeflow::Scope owner("worker", {.monitor = &g_monitor, .track = true});
                 for (long i = 0; i < k; ++i) {
                     auto lease = pool->acquire(owner);
                     keep(lease->id);
                 }
             });
         }},
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::string_view(argv[1]) == "--only") {
        const auto all = cases(1);
        const long n = argc >= 4 ? std::atol(argv[3]) : 1'000'000;
        all.at(static_cast<std::size_t>(std::atoi(argv[2]))).run(n);
        return 0;
    }
    const long n = argc >= 2 ? std::atol(argv[1]) : 1'000'000;
    const int rounds = argc >= 3 ? std::atoi(argv[2]) : 7;
    scopeflow::bench::print_table("lease + return, 1 thread (ns per lease)",
                                  scopeflow::bench::run_interleaved(cases(1), n, rounds));
    scopeflow::bench::print_table("lease + return, 2 threads sharing one pool (wall ns per lease)",
                                  scopeflow::bench::run_interleaved(cases(2), n, rounds));
    return 0;
}
