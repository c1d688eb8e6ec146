// Redis: scopeflow against redis-benchmark on the same server, same clients, same pipeline depth.
//
// For each depth P, in interleaved rounds (medians reported):
//   redis-benchmark -t set,get -n N -P P -c C -q     the baseline (run as a child process)
//   connection     C threads, one redis::Connection each, SET (then GET) in Batches of P
//   stage SET      a Pipeline: GeneratorSource -> redis stage "set", C workers, batch_size P
//                  (the stage sends each batch's writes in one pipelined round trip)
//   stage GET      the same with "get" into a field: reads run per event (depth 1 always), so
//                  this is shown against redis-benchmark at -P 1 only
// Keys and values follow redis-benchmark's: one key "key:__rand_int__", 3-byte values for
// the connection case (the stage writes the event's "n").
//
//   source /tmp/sf/env   # scripts/test-servers start /tmp/sf
//   build/bench/redis_benchmark [--requests 200000] [--clients 4] [--depths 1,16] [--rounds 3]
//
// The password goes to redis-benchmark with -a (it reads no environment variable for it), so
// it is visible in the process list while the baseline runs: use a throwaway server.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/process/child_process.h>
#include <scopeflow/redis/batch.h>
#include <scopeflow/redis/client.h>
#include <scopeflow/redis/connection.h>
#include <scopeflow/redis/stages/redis_stage.h>
#include <scopeflow/sources/generator_source.h>

namespace {

using Clock = std::chrono::steady_clock;
using scopeflow::redis::Batch;
using scopeflow::redis::Connection;
using scopeflow::redis::ConnectionOptions;

struct Config {
    std::string host, port, password;
    long requests = 200000;
    int clients = 4;
    std::vector<int> depths{1, 16};
    int rounds = 3;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at start
    return v == nullptr ? std::string() : std::string(v);
}

ConnectionOptions options(const Config& c) {
    return {.host = c.host, .port = std::stoi(c.port), .password = scopeflow::Secret(c.password)};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// "SET: 123456.79 requests per second, p50=..." -> 123456.79 (progress lines end in \r).
double parse_rps(const std::string& out, std::string_view test) {
    const std::string tag = std::string(test) + ": ";
    double found = -1;
    std::size_t pos = 0;
    while ((pos = out.find(tag, pos)) != std::string::npos) {
        const std::size_t end = out.find_first_of("\r\n", pos);
        const std::string line = out.substr(pos, end - pos);
        if (line.find("requests per second") != std::string::npos) {
            found = std::strtod(line.c_str() + tag.size(), nullptr);
        }
        pos += tag.size();
    }
    if (found < 0) {
        throw std::runtime_error("no " + std::string(test) +
                                 " figure in redis-benchmark output:\n" + out);
    }
    return found;
}

struct Rates {
    double set = 0;
    double get = 0;
};

Rates run_redis_benchmark(const Config& c, int depth) {
    auto child = scopeflow::ChildProcess::spawn(
        {.argv = {"redis-benchmark", "-h", c.host, "-p", c.port, "-a", c.password, "-t", "set,get",
                  "-n", std::to_string(c.requests), "-P", std::to_string(depth), "-c",
                  std::to_string(c.clients), "-q"},
         .pipe_stdin = false,
         .pipe_stdout = true,
         .pipe_stderr = true});  // "Warning: Using a password with '-a'..." is not ours to show
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(child.stdout_fd().get(), buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    const scopeflow::ExitStatus status = child.close();
    if (!status.succeeded()) {
        throw std::runtime_error("redis-benchmark " + status.describe());
    }
    return {parse_rps(out, "SET"), parse_rps(out, "GET")};
}

// C threads, a connection each, N/C commands each in batches of `depth`; ops/s overall.
double run_connections(const Config& c, int depth, bool set) {
    const long per_thread = c.requests / c.clients;
    std::vector<Connection> conns;
    for (int i = 0; i < c.clients; ++i) {
        conns.push_back(Connection::open(options(c)));
    }
    std::latch go(c.clients + 1);
    std::vector<std::jthread> threads;
    for (int t = 0; t < c.clients; ++t) {
        threads.emplace_back([&, t] {
            Connection& conn = conns[static_cast<std::size_t>(t)];
            Batch batch;
            for (int i = 0; i < depth; ++i) {
                if (set) {
                    batch.add({"SET", "key:__rand_int__", "xxx"});
                } else {
                    batch.add({"GET", "key:__rand_int__"});
                }
            }
            std::vector<scopeflow::redis::Reply> replies;
            go.arrive_and_wait();
            for (long done = 0; done < per_thread; done += depth) {
                conn.exec(batch, replies);
            }
        });
    }
    go.arrive_and_wait();
    const auto start = Clock::now();
    for (auto& t : threads) {
        t.join();
    }
    const std::chrono::duration<double> took = Clock::now() - start;
    const long ops = ((per_thread + depth - 1) / depth) * depth * c.clients;
    return static_cast<double>(ops) / took.count();
}

// A Pipeline: generator -> redis stage, C workers, batch_size = depth; events/s.
double run_stage(const Config& c,
                 const std::shared_ptr<scopeflow::redis::Client>& client,
                 int depth,
                 bool set) {
    using namespace scopeflow;
    GeneratorSource source({.count = static_cast<std::uint64_t>(c.requests)});
    Graph g;
    if (set) {
        g.add_stage("cache",
                    std::make_unique<RedisStage>(RedisStageOptions{.client = client,
                                                                   .command = RedisCommand::set,
                                                                   .key = "key:__rand_int__",
                                                                   .value = "n"}));
    } else {
        g.add_stage("cache",
                    std::make_unique<RedisStage>(RedisStageOptions{.client = client,
                                                                   .command = RedisCommand::get,
                                                                   .key = "key:__rand_int__",
                                                                   .into = "v"}));
    }
    Pipeline p("bench", std::move(g), source,
               {.workers = static_cast<std::size_t>(c.clients),
                .batch_size = static_cast<std::size_t>(depth)});
    Scope root("bench");
    const auto start = Clock::now();
    p.run(root);
    const std::chrono::duration<double> took = Clock::now() - start;
    if (source.acked() != static_cast<std::uint64_t>(c.requests)) {
        throw std::runtime_error("stage run lost events");
    }
    return static_cast<double>(c.requests) / took.count();
}

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        const std::size_t comma = s.find(',', pos);
        out.push_back(std::stoi(s.substr(pos, comma - pos)));
        if (comma == std::string::npos) {
            break;
        }
        pos = comma + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    c.host = env("SCOPEFLOW_TEST_REDIS_HOST");
    c.port = env("SCOPEFLOW_TEST_REDIS_PORT");
    c.password = env("SCOPEFLOW_TEST_REDIS_PASSWORD");
    if (c.host.empty() || c.port.empty()) {
        std::fprintf(stderr,
                     "redis_benchmark: set SCOPEFLOW_TEST_REDIS_{HOST,PORT,PASSWORD} "
                     "(scripts/test-servers start DIR && source DIR/env)\n");
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--requests") {
            c.requests = std::stol(value);
        } else if (flag == "--clients") {
            c.clients = std::stoi(value);
        } else if (flag == "--depths") {
            c.depths = parse_list(value);
        } else if (flag == "--rounds") {
            c.rounds = std::stoi(value);
        } else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    scopeflow::ResourceMonitor::global();  // quiet by default; nothing is expected to leak
    auto client = std::make_shared<scopeflow::redis::Client>(
        scopeflow::PoolOptions{.name = "bench", .max_size = static_cast<std::size_t>(c.clients)},
        options(c));
    std::printf("redis: %s:%s, %ld requests, %d clients, %d rounds (medians, ops/s)\n",
                c.host.c_str(), c.port.c_str(), c.requests, c.clients, c.rounds);
    try {
        for (const int depth : c.depths) {
            std::vector<double> rb_set, rb_get, conn_set, conn_get, stage_set, stage_get;
            for (int r = 0; r < c.rounds; ++r) {
                const Rates rb = run_redis_benchmark(c, depth);
                rb_set.push_back(rb.set);
                rb_get.push_back(rb.get);
                conn_set.push_back(run_connections(c, depth, true));
                conn_get.push_back(run_connections(c, depth, false));
                stage_set.push_back(run_stage(c, client, depth, true));
                if (depth == 1) {
                    stage_get.push_back(run_stage(c, client, depth, false));
                }
            }
            const double bs = median(rb_set);
            const double bg = median(rb_get);
            std::printf("\ndepth %d (-P %d -c %d)\n", depth, depth, c.clients);
            std::printf("  %-34s %12s %8s\n", "case", "ops/s", "ratio");
            std::printf("  %-34s %12.0f %7.2fx\n", "redis-benchmark SET", bs, 1.0);
            std::printf("  %-34s %12.0f %7.2fx\n", "redis::Connection SET", median(conn_set),
                        median(conn_set) / bs);
            std::printf("  %-34s %12.0f %7.2fx\n", "redis stage SET (batch pipelined)",
                        median(stage_set), median(stage_set) / bs);
            std::printf("  %-34s %12.0f %7.2fx\n", "redis-benchmark GET", bg, 1.0);
            std::printf("  %-34s %12.0f %7.2fx\n", "redis::Connection GET", median(conn_get),
                        median(conn_get) / bg);
            if (!stage_get.empty()) {
                std::printf("  %-34s %12.0f %7.2fx\n", "redis stage GET (per event)",
                            median(stage_get), median(stage_get) / bg);
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "redis_benchmark: %s\n", e.what());
        return 1;
    }
    (void)client->close(std::chrono::seconds(5));
    return 0;
}
