// SQL lookups through scopeflow against pgbench's select-only workload on the same server.
//
//   scripts/test-servers start /tmp/sf && source /tmp/sf/env
//   build/bench/postgres_benchmark [--clients C] [--seconds T] [--rounds R] [--depth D]
//
// Reads the server from SCOPEFLOW_TEST_PG_*; runs `pgbench -i -s 1` once, then, interleaved for
// R rounds of T seconds each (medians reported):
//   pgbench -S -M prepared -c C -j C -T T     the baseline (PGPASSWORD in its environment only)
//   sql::Database::query, C threads            pool of C connections, prepared, text values
//   sql_lookup stage in a Pipeline, C workers  the whole engine: source, stage, retries, acks
//   pipelined, D lookups per round trip        pg::Connection::pipeline on C pooled connections
// Same query shape as pgbench -S (SELECT abalance FROM pgbench_accounts WHERE aid = $1), same
// server, same number of connections. Prints TPS and the ratio to pgbench's TPS.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/process/child_process.h>
#include <scopeflow/process/line_channel.h>
#include <scopeflow/sources/generator_source.h>
#include <scopeflow/stages/sql_stages.h>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace sf = scopeflow;

constexpr int kAccounts = 100000;  // pgbench scale 1
const char* const kLookup = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";

struct Config {
    int clients = 2;
    int seconds = 5;
    int rounds = 3;
    int depth = 64;
};

std::string env(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at start
    return v == nullptr ? std::string() : std::string(v);
}

sf::pg::ConnectionOptions server() {
    return {.host = env("SCOPEFLOW_TEST_PG_HOST"),
            .port = std::stoi(env("SCOPEFLOW_TEST_PG_PORT")),
            .dbname = env("SCOPEFLOW_TEST_PG_DB"),
            .user = env("SCOPEFLOW_TEST_PG_USER"),
            .password = sf::Secret(env("SCOPEFLOW_TEST_PG_PASSWORD")),
            .application_name = "scopeflow-bench"};
}

// Runs pgbench with `args`; returns its stdout lines. The password travels in its environment.
std::vector<std::string> pgbench(const sf::pg::ConnectionOptions& o,
                                 std::vector<std::string> args) {
    std::vector<std::string> argv = {"pgbench", "-h",  o.host, "-p", std::to_string(o.port),
                                     "-U",      o.user};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(o.dbname);
    auto child = sf::ChildProcess::spawn(
        {.argv = argv, .env_add = {"PGPASSWORD=" + o.password.reveal()}, .pipe_stdin = false});
    sf::LineChannel out(child.stdin_fd(), child.stdout_fd());
    std::vector<std::string> lines;
    while (auto line = out.read_line(std::chrono::milliseconds::max())) {
        lines.push_back(std::move(*line));
    }
    const auto status = child.wait();
    if (!status.succeeded()) {
        throw std::runtime_error("pgbench " + status.describe());
    }
    return lines;
}

double pgbench_tps(const sf::pg::ConnectionOptions& o, const Config& c) {
    const auto lines =
        pgbench(o, {"-S", "-M", "prepared", "-n", "-c", std::to_string(c.clients), "-j",
                    std::to_string(c.clients), "-T", std::to_string(c.seconds)});
    for (const auto& l : lines) {
        if (l.starts_with("tps = ")) {
            return std::stod(l.substr(6));
        }
    }
    throw std::runtime_error("no tps line in pgbench's output");
}

// Runs body(thread index, stop flag) on C threads for T seconds; returns operations / second.
template <typename Body>
double run_threads(const Config& c, Body body) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> ops{0};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int i = 0; i < c.clients; ++i) {
        threads.emplace_back([&, i] { ops.fetch_add(body(i, stop)); });
    }
    std::this_thread::sleep_for(std::chrono::seconds(c.seconds));
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
    const std::chrono::duration<double> took = Clock::now() - start;
    return static_cast<double>(ops.load()) / took.count();
}

double database_tps(sf::sql::Database& db, sf::Scope& root, const Config& c) {
    return run_threads(c, [&](int i, std::atomic<bool>& stop) {
        sf::Scope worker = root.child("bench-" + std::to_string(i));
        std::minstd_rand rng(static_cast<unsigned>(i + 1));
        std::uniform_int_distribution<int> aid(1, kAccounts);
        std::uint64_t n = 0;
        sf::sql::Params p(1);
        while (!stop.load(std::memory_order_relaxed)) {
            p[0] = std::to_string(aid(rng));
            if (db.query(worker, kLookup, p).rows.size() != 1) {
                std::abort();
            }
            ++n;
        }
        return n;
    });
}

// The connector alone: one pg::Connection per thread, no pool, no sql::Result copy.
double connection_tps(const sf::pg::ConnectionOptions& o, const Config& c) {
    std::vector<sf::pg::Connection> conns;
    for (int i = 0; i < c.clients; ++i) {
        conns.push_back(sf::pg::Connection::open(o));
    }
    return run_threads(c, [&](int i, std::atomic<bool>& stop) {
        sf::pg::Connection& conn = conns[static_cast<std::size_t>(i)];
        std::minstd_rand rng(static_cast<unsigned>(i + 1));
        std::uniform_int_distribution<int> aid(1, kAccounts);
        std::uint64_t n = 0;
        sf::sql::Params p(1);
        while (!stop.load(std::memory_order_relaxed)) {
            p[0] = std::to_string(aid(rng));
            if (conn.exec(kLookup, p).rows() != 1) {
                std::abort();
            }
            ++n;
        }
        return n;
    });
}

double pipelined_tps(sf::pg::ConnectionPool& pool, sf::Scope& root, const Config& c) {
    return run_threads(c, [&](int i, std::atomic<bool>& stop) {
        sf::Scope worker = root.child("bench-" + std::to_string(i));
        std::minstd_rand rng(static_cast<unsigned>(i + 1));
        std::uniform_int_distribution<int> aid(1, kAccounts);
        std::vector<sf::sql::Params> rows(static_cast<std::size_t>(c.depth), sf::sql::Params(1));
        std::uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (auto& r : rows) {
                r[0] = std::to_string(aid(rng));
            }
            const auto results = pool.with(
                worker, [&](sf::pg::Connection& conn) { return conn.pipeline(kLookup, rows); });
            if (results.size() != rows.size()) {
                std::abort();
            }
            n += results.size();
        }
        return n;
    });
}

double stage_tps(const std::shared_ptr<sf::sql::Database>& db, sf::Scope& root, const Config& c) {
    sf::Graph g;
    g.add_stage("lookup", std::make_unique<sf::SqlLookupStage>(sf::SqlLookupOptions{
                              .database = db,
                              // aid from the generator's sequence number, spread over the table.
                              .query = "SELECT abalance FROM pgbench_accounts WHERE aid = "
                                       "($1::int * 7919) % 100000 + 1",
                              .params = {"n"},
                              .into = "balance"}));
    g.validate();
    sf::GeneratorSource source;
    sf::Pipeline p("bench", std::move(g), source,
                   {.workers = static_cast<std::size_t>(c.clients), .batch_size = 64});
    const auto start = Clock::now();
    p.start(root);
    std::this_thread::sleep_for(std::chrono::seconds(c.seconds));
    p.request_stop();
    p.wait();
    const std::chrono::duration<double> took = Clock::now() - start;
    return static_cast<double>(p.stats().completed) / took.count();
}

// CPU seconds (user + system) used so far by this process, or by its reaped children.
double cpu_seconds(int who) {
    rusage u{};
    ::getrusage(who, &u);
    const auto sec = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
    };
    return sec(u.ru_utime) + sec(u.ru_stime);
}

// Runs one case; returns its TPS and records the client's CPU microseconds per lookup.
template <typename F>
double measured(int who, const Config& c, std::vector<double>& cpu_us, F run) {
    const double before = cpu_seconds(who);
    const double tps = run();
    const double ops = tps * c.seconds;
    cpu_us.push_back((cpu_seconds(who) - before) * 1e6 / ops);
    return tps;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const int value = std::atoi(argv[i + 1]);
        if (flag == "--clients") {
            c.clients = value;
        } else if (flag == "--seconds") {
            c.seconds = value;
        } else if (flag == "--rounds") {
            c.rounds = value;
        } else if (flag == "--depth") {
            c.depth = value;
        } else {
            std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    if (env("SCOPEFLOW_TEST_PG_HOST").empty()) {
        std::fprintf(stderr,
                     "postgres_benchmark: set SCOPEFLOW_TEST_PG_* (scripts/test-servers start DIR "
                     "&& source DIR/env)\n");
        return 2;
    }
    try {
        const auto o = server();
        (void)pgbench(o, {"-i", "-s", "1", "-q"});
        sf::Scope root{"bench"};
        auto db = sf::pg::make_postgres_database(
            {.name = "bench-db", .max_size = static_cast<std::size_t>(c.clients)}, o);
        auto db_lifo =
            sf::pg::make_postgres_database({.name = "bench-db-lifo",
                                            .max_size = static_cast<std::size_t>(c.clients),
                                            .thread_affinity = false},
                                           o);
        auto pool = sf::pg::make_pool(
            {.name = "bench-pipe", .max_size = static_cast<std::size_t>(c.clients)}, o);
        std::printf("PostgreSQL lookups, %d connection(s), %d round(s) of %ds, pipeline depth %d\n",
                    c.clients, c.rounds, c.seconds, c.depth);
        std::vector<double> base, direct, query, lifo, stage, piped;
        std::vector<double> base_cpu, direct_cpu, query_cpu, lifo_cpu, stage_cpu, piped_cpu;
        for (int r = 0; r < c.rounds; ++r) {
            base.push_back(
                measured(RUSAGE_CHILDREN, c, base_cpu, [&] { return pgbench_tps(o, c); }));
            direct.push_back(
                measured(RUSAGE_SELF, c, direct_cpu, [&] { return connection_tps(o, c); }));
            query.push_back(
                measured(RUSAGE_SELF, c, query_cpu, [&] { return database_tps(*db, root, c); }));
            lifo.push_back(measured(RUSAGE_SELF, c, lifo_cpu,
                                    [&] { return database_tps(*db_lifo, root, c); }));
            stage.push_back(
                measured(RUSAGE_SELF, c, stage_cpu, [&] { return stage_tps(db, root, c); }));
            piped.push_back(
                measured(RUSAGE_SELF, c, piped_cpu, [&] { return pipelined_tps(*pool, root, c); }));
            std::printf(
                "  round %d: pgbench %.0f, connection %.0f, query %.0f (no affinity %.0f), stage "
                "%.0f, pipelined %.0f tps\n",
                r + 1, base.back(), direct.back(), query.back(), lifo.back(), stage.back(),
                piped.back());
        }
        const double b = median(base);
        std::printf("\n  %-40s %10s %8s %14s\n", "case (median)", "tps", "ratio", "client us/op");
        const auto row = [&](const std::string& name, const std::vector<double>& tps,
                             const std::vector<double>& cpu) {
            std::printf("  %-40s %10.0f %7.2fx %14.2f\n", name.c_str(), median(tps),
                        median(tps) / b, median(cpu));
        };
        row("pgbench -S -M prepared", base, base_cpu);
        row("pg::Connection::exec (no pool)", direct, direct_cpu);
        row("sql::Database::query", query, query_cpu);
        row("sql::Database::query, no thread affinity", lifo, lifo_cpu);
        row("sql_lookup stage (pipeline)", stage, stage_cpu);
        row("pipelined, " + std::to_string(c.depth) + " per round trip", piped, piped_cpu);
        (void)db->close(1s);
        (void)db_lifo->close(1s);
        (void)pool->close(1s);
        root.close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "postgres_benchmark: %s\n", e.what());
        return 1;
    }
    return 0;
}
