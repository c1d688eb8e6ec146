// Pipeline engine benchmarks, each against its baseline in the same run:
//
//   1. 3 trivial stages, N events, 2 threads: scopeflow Pipeline vs oneTBB parallel_pipeline
//      with the same stage bodies, and vs a plain 2-thread loop calling the bodies (the floor,
//      from which the per-stage-visit overhead is derived).
//   2. The seed's own claim: a logging stage that opens and closes its file per event (the
//      seed's ManagedPipeline) vs one holding the file in its stage scope.
//   3. JSONL file -> parse -> filter -> file sink on one worker: events/s and MB/s, vs a
//      hand-written loop doing the same work.
//
//   build/bench/engine_benchmark [events=10000000] [jsonl_events=500000] [rounds=3]
//   valgrind --tool=callgrind build/bench/engine_benchmark --only pipeline|floor N
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <unistd.h>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/core/unique_fd.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/event/event.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/sources/generator_source.h>
#include <scopeflow/sources/jsonl_file_source.h>
#include <scopeflow/stages/file_sink_stage.h>
#include <scopeflow/stages/filter_stage.h>

namespace {

namespace fs = std::filesystem;
using namespace scopeflow;
using Clock = std::chrono::steady_clock;

Ledger g_ledger;
ResourceMonitor g_monitor(g_ledger, {.log_to_stderr = false});

template <typename T>
void keep(T const& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

thread_local std::uint64_t t_acc = 0;

// The three trivial stage bodies shared by every contender.
inline void body1(const Event& e) {
    t_acc += static_cast<std::uint64_t>(e.get_int("n").value_or(0));
}
inline void body2(const Event& e) {
    t_acc ^= static_cast<std::uint64_t>(e.size());
}
inline void body3(const Event& e) {
    t_acc += e.find("n") != nullptr ? 1U : 0U;
}

inline void fill(Event& e, std::uint64_t i) {
    e.clear();
    e.meta().sequence = i;
    e.set("n", Value(static_cast<std::int64_t>(i)));
}

class Trivial final : public Stage {
public:
    explicit Trivial(void (*fn)(const Event&))
        : Stage("trivial"),
          fn_(fn) {}

protected:
    ActionId on_process(Event& e, TaskContext&) override {
        fn_(e);
        return kActionDefault;
    }

private:
    void (*fn_)(const Event&);
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double run_scopeflow(std::uint64_t n, std::size_t threads, bool track) {
    GeneratorSource source({.count = n});
    Scope svc("bench", {.monitor = &g_monitor, .track = track});
    Graph g;
    g.add_stage("s1", std::make_unique<Trivial>(body1));
    g.add_stage("s2", std::make_unique<Trivial>(body2));
    g.add_stage("s3", std::make_unique<Trivial>(body3));
    g.route("s1", "default", "s2");
    g.route("s2", "default", "s3");
    Pipeline p("p", std::move(g), source, {.workers = threads, .batch_size = 256});
    const auto start = Clock::now();
    p.run(svc);
    const double s = seconds_since(start);
    if (source.acked() != n) {
        std::fprintf(stderr, "scopeflow: acked %llu of %llu\n",
                     static_cast<unsigned long long>(source.acked()),
                     static_cast<unsigned long long>(n));
        std::exit(1);
    }
    return s;
}

double run_tbb(std::uint64_t n, std::size_t threads) {
    const std::size_t tokens = threads * 8;
    std::vector<Event> pool(tokens);
    tbb::concurrent_queue<Event*> free_events;
    for (auto& e : pool) {
        free_events.push(&e);
    }
    std::uint64_t next = 0;
    const auto start = Clock::now();
    tbb::parallel_pipeline(
        tokens, tbb::make_filter<void, Event*>(tbb::filter_mode::serial_in_order,
                                               [&](tbb::flow_control& fc) -> Event* {
                                                   if (next >= n) {
                                                       fc.stop();
                                                       return nullptr;
                                                   }
                                                   Event* e = nullptr;
                                                   while (!free_events.try_pop(e)) {
                                                   }
                                                   fill(*e, next++);
                                                   return e;
                                               }) &
                    tbb::make_filter<Event*, Event*>(tbb::filter_mode::parallel,
                                                     [](Event* e) {
                                                         body1(*e);
                                                         return e;
                                                     }) &
                    tbb::make_filter<Event*, Event*>(tbb::filter_mode::parallel,
                                                     [](Event* e) {
                                                         body2(*e);
                                                         return e;
                                                     }) &
                    tbb::make_filter<Event*, void>(tbb::filter_mode::parallel, [&](Event* e) {
                        body3(*e);
                        free_events.push(e);
                    }));
    return seconds_since(start);
}

double run_plain_loop(std::uint64_t n, std::size_t threads) {
    const auto start = Clock::now();
    std::vector<std::thread> ts;
    for (std::size_t t = 0; t < threads; ++t) {
        ts.emplace_back([=] {
            Event e;
            for (std::uint64_t i = t; i < n; i += threads) {
                fill(e, i);
                body1(e);
                body2(e);
                body3(e);
            }
            keep(t_acc);
        });
    }
    for (auto& t : ts) {
        t.join();
    }
    return seconds_since(start);
}

// --- 2. the seed's claim ------------------------------------------------------------------------
class LogPerEvent final : public Stage {  // the seed's ManagedPipeline: open/close per event
public:
    explicit LogPerEvent(std::string path)
        : Stage("log_per_event"),
          path_(std::move(path)) {}

protected:
    ActionId on_process(Event& e, TaskContext&) override {
        UniqueFd fd = UniqueFd::open(path_, O_WRONLY | O_CREAT | O_APPEND);
        line_ = "event processed " + std::to_string(e.meta().sequence) + "\n";
        if (::write(fd.get(), line_.data(), line_.size()) < 0) {
            throw std::runtime_error("write failed");
        }
        fd.close();
        return kActionDefault;
    }

private:
    std::string path_;
    std::string line_;
};

class LogHeld final : public Stage {  // open once in the stage scope, use many times
public:
    explicit LogHeld(std::string path)
        : Stage("log_held"),
          path_(std::move(path)) {}

protected:
    void on_open(Scope& scope, std::size_t) override {
        fd_ = &scope.adopt({"log", ResourceKind::file},
                           UniqueFd::open(path_, O_WRONLY | O_CREAT | O_APPEND));
    }
    ActionId on_process(Event& e, TaskContext&) override {
        line_ = "event processed " + std::to_string(e.meta().sequence) + "\n";
        if (::write(fd_->get(), line_.data(), line_.size()) < 0) {
            throw std::runtime_error("write failed");
        }
        return kActionDefault;
    }

private:
    std::string path_;
    UniqueFd* fd_ = nullptr;
    std::string line_;
};

double run_logging(std::unique_ptr<Stage> stage, std::uint64_t n) {
    GeneratorSource source({.count = n});
    Scope svc("bench", {.monitor = &g_monitor});
    Graph g;
    g.add_stage("log", std::move(stage));
    Pipeline p("p", std::move(g), source, {.workers = 1});
    const auto start = Clock::now();
    p.run(svc);
    return seconds_since(start);
}

// --- 3. JSONL -> parse -> filter -> file sink
// ------------------------------------------------------
std::uint64_t write_jsonl(const std::string& path, std::uint64_t n) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    static const char* kTypes[] = {"click", "view", "buy", "search"};
    std::uint64_t bytes = 0;
    std::string line;
    for (std::uint64_t i = 0; i < n; ++i) {
        line = "{\"n\":" + std::to_string(i) + ",\"user\":\"u-" + std::to_string(i % 5000) +
               "\",\"type\":\"" + kTypes[i % 4] + "\",\"price\":" + std::to_string(i % 100) +
               ".25,\"ts\":" + std::to_string(1700000000000 + i) + ",\"session\":\"s-" +
               std::to_string(i * 7919 % 1000003) + "\",\"page\":\"/products/category-" +
               std::to_string(i % 37) + "/item-" + std::to_string(i % 9973) +
               "\",\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\"}";
        line += '\n';
        bytes += line.size();
        f << line;
    }
    return bytes;
}

double run_jsonl_pipeline(const std::string& in, const std::string& out_dir, std::uint64_t n) {
    fs::remove(in + ".offset");
    fs::remove_all(out_dir);
    fs::create_directories(out_dir);
    JsonlFileSource source({.path = in, .resume = false});
    Scope svc("bench", {.monitor = &g_monitor});
    Graph g;
    g.add_stage("filter", std::make_unique<FilterStage>(FilterOptions{
                              .field = "price", .op = CompareOp::ge, .value = Value(10.0)}));
    g.add_stage("sink", std::make_unique<FileSinkStage>(
                            FileSinkOptions{.directory = out_dir, .fsync = FsyncPolicy::never}));
    g.route("filter", "default", "sink");
    Pipeline p("p", std::move(g), source, {.workers = 1, .batch_size = 256});
    const auto start = Clock::now();
    p.run(svc);
    const double s = seconds_since(start);
    if (p.stats().read != n) {
        std::fprintf(stderr, "jsonl: read %llu of %llu\n",
                     static_cast<unsigned long long>(p.stats().read),
                     static_cast<unsigned long long>(n));
        std::exit(1);
    }
    return s;
}

double run_jsonl_by_hand(const std::string& in, const std::string& out_dir) {
    fs::remove_all(out_dir);
    fs::create_directories(out_dir);
    const auto start = Clock::now();
    std::ifstream f(in, std::ios::binary);
    UniqueFd out = UniqueFd::open(out_dir + "/out.jsonl", O_WRONLY | O_CREAT | O_TRUNC);
    EventParser parser;
    Event e;
    std::string line;
    std::string buf;
    while (std::getline(f, line)) {
        if (!parser.parse(line, e)) {
            continue;
        }
        const Value* price = e.find("price");
        if (price == nullptr || price->as_double() < 10.0) {
            continue;
        }
        append_json(e, buf);
        buf += '\n';
        if (buf.size() > (64 << 10)) {
            if (::write(out.get(), buf.data(), buf.size()) < 0) {
                std::exit(1);
            }
            buf.clear();
        }
    }
    if (!buf.empty() && ::write(out.get(), buf.data(), buf.size()) < 0) {
        std::exit(1);
    }
    out.close();
    return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n =
        argc > 1 && argv[1][0] != '-' ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
    const std::uint64_t jsonl_n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 500'000;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
    constexpr std::size_t kThreads = 2;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kThreads);
    // For valgrind --tool=callgrind (instruction counts repeat on a noisy machine):
    //   engine_benchmark --only pipeline|floor N
    if (argc > 3 && std::string_view(argv[1]) == "--only") {
        const std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
        if (std::string_view(argv[2]) == "pipeline") {
            run_scopeflow(count, kThreads, true);
        } else {
            run_plain_loop(count, kThreads);
        }
        return 0;
    }

    std::printf("engine_benchmark: %llu events, %d rounds (median)\n\n",
                static_cast<unsigned long long>(n), rounds);
    std::vector<double> sf;
    std::vector<double> sf_off;
    std::vector<double> tbb;
    std::vector<double> plain;
    for (int r = 0; r < rounds; ++r) {
        plain.push_back(run_plain_loop(n, kThreads));
        sf.push_back(run_scopeflow(n, kThreads, true));
        sf_off.push_back(run_scopeflow(n, kThreads, false));
        tbb.push_back(run_tbb(n, kThreads));
    }
    const double m_plain = median(plain);
    const double m_sf = median(sf);
    const double m_off = median(sf_off);
    const double m_tbb = median(tbb);
    auto rate = [&](double s) { return static_cast<double>(n) / s / 1e6; };
    std::printf("1. three trivial stages, %zu threads\n", kThreads);
    std::printf("  %-44s %8.2f M events/s\n", "plain loop calling the bodies (floor)",
                rate(m_plain));
    std::printf("  %-44s %8.2f M events/s  %5.2fx oneTBB\n", "scopeflow pipeline, ledger on",
                rate(m_sf), m_tbb / m_sf);
    std::printf("  %-44s %8.2f M events/s  %5.2fx oneTBB\n", "scopeflow pipeline, ledger off",
                rate(m_off), m_tbb / m_off);
    std::printf("  %-44s %8.2f M events/s  1.00x\n", "oneTBB parallel_pipeline", rate(m_tbb));
    // Overhead per stage visit over the floor, in thread-time: (t - floor) * threads / visits.
    const double visits = 3.0 * static_cast<double>(n);
    std::printf("  per stage visit over the floor: %.1f ns (ledger on)\n\n",
                (m_sf - m_plain) * kThreads / visits * 1e9);

    const std::string dir =
        (fs::temp_directory_path() / ("scopeflow-bench-" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    const std::uint64_t log_n = 100'000;
    std::vector<double> per_event;
    std::vector<double> held;
    for (int r = 0; r < rounds; ++r) {
        per_event.push_back(run_logging(std::make_unique<LogPerEvent>(dir + "/a.log"), log_n));
        held.push_back(run_logging(std::make_unique<LogHeld>(dir + "/b.log"), log_n));
    }
    std::printf("2. the seed's claim: a logging stage, %llu events, 1 worker\n",
                static_cast<unsigned long long>(log_n));
    std::printf("  %-44s %8.0f events/s\n", "open+write+close per event (ManagedPipeline)",
                static_cast<double>(log_n) / median(per_event));
    std::printf("  %-44s %8.0f events/s  %5.1fx faster\n\n", "file held in the stage scope",
                static_cast<double>(log_n) / median(held), median(per_event) / median(held));

    const std::string in = dir + "/in.jsonl";
    const std::uint64_t bytes = write_jsonl(in, jsonl_n);
    std::vector<double> pipe;
    std::vector<double> hand;
    for (int r = 0; r < rounds; ++r) {
        pipe.push_back(run_jsonl_pipeline(in, dir + "/out-pipe", jsonl_n));
        hand.push_back(run_jsonl_by_hand(in, dir + "/out-hand"));
    }
    const double avg = static_cast<double>(bytes) / static_cast<double>(jsonl_n);
    std::printf("3. JSONL -> parse -> filter -> file sink, 1 worker, %llu events of %.0f bytes\n",
                static_cast<unsigned long long>(jsonl_n), avg);
    std::printf("  %-44s %8.2f M events/s %7.1f MB/s\n", "scopeflow pipeline",
                static_cast<double>(jsonl_n) / median(pipe) / 1e6,
                static_cast<double>(bytes) / median(pipe) / 1e6);
    std::printf("  %-44s %8.2f M events/s %7.1f MB/s  (pipeline at %.2fx)\n",
                "hand-written loop (getline+parse+filter+write)",
                static_cast<double>(jsonl_n) / median(hand) / 1e6,
                static_cast<double>(bytes) / median(hand) / 1e6, median(hand) / median(pipe));
    fs::remove_all(dir);
    return 0;
}
