// End to end: JSONL file -> parse -> SQL lookup (PostgreSQL) -> file sink + HTTP batch
// POST, with latency, throughput, and the process's RSS and open fds over the run.
//
//   scripts/test-servers start /tmp/sf && source /tmp/sf/env
//   build/bench/e2e_benchmark [events=10000000] [workers=2]
//
// What it does, in one process:
//   1. writes N events {"id","customer_id" (1..10000),"amount","ts"} to a JSONL file in a temp dir;
//   2. (re)creates and fills `customers` (10000 rows: id, name, tier) on SCOPEFLOW_TEST_PG_*;
//   3. baseline: JsonlFileSource -> file_sink, nothing else (no database, no HTTP);
//   4. end to end, built in code:
//        JsonlFileSource -> sql_lookup (pooled PostgreSQL, SELECT name, tier ... WHERE id = $1,
//        into customer_*) -> fan-out: file_sink -> latency_file
//                                     http_post (batch POST, pooled kept-alive sessions)
//                                       -> latency_http
//      The HTTP target is an embedded scopeflow::http::Server on loopback that counts the events
//      of every posted array;
//   5. the baseline again (the machine is shared: bracketing shows drift); prints the ratio.
//
// Latency: a wrapper around the source stamps each event with steady_clock when read() hands
// it over (in a ring indexed by sequence, so the events themselves are not changed). Two figures:
//   in graph     read -> the latency stage at the end of each branch (both branches recorded);
//   read -> ack  read -> the engine's ack, i.e. after the file sink flushed and the POST carrying
//                the event got its 2xx (the batch's end): what "done" means for a source.
// RSS, open fds and threads are read from /proc/self at start, after warm-up, every 1M events
// and at the end, with the pools' and the HTTP client's connection counts (reuse stays visible).
// Not a test: not run by CTest. Exits non-zero if any event is missing anywhere.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <unistd.h>

#include <scopeflow/core/histogram.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/http/stages/http_post_stage.h>
#include <scopeflow/postgres/connection.h>
#include <scopeflow/postgres/postgres_pool.h>
#include <scopeflow/sources/jsonl_file_source.h>
#include <scopeflow/stages/file_sink_stage.h>
#include <scopeflow/stages/sql_stages.h>

namespace {

namespace fs = std::filesystem;
namespace sf = scopeflow;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kCustomers = 10000;
constexpr std::uint64_t kReportEvery = 1'000'000;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::string env(const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at start
    if (v == nullptr || *v == '\0') {
        throw std::runtime_error(std::string(name) +
                                 " is not set: scripts/test-servers start DIR && source DIR/env");
    }
    return v;
}

sf::pg::ConnectionOptions server_options() {
    return {.host = env("SCOPEFLOW_TEST_PG_HOST"),
            .port = std::stoi(env("SCOPEFLOW_TEST_PG_PORT")),
            .dbname = env("SCOPEFLOW_TEST_PG_DB"),
            .user = env("SCOPEFLOW_TEST_PG_USER"),
            .password = sf::Secret(env("SCOPEFLOW_TEST_PG_PASSWORD")),
            .application_name = "scopeflow-e2e-bench"};
}

// --- the process's own resources ------------------------------------------------------------

struct ProcessSample {
    std::uint64_t rss_kib = 0;
    std::uint64_t fds = 0;
    std::uint64_t threads = 0;
};

ProcessSample sample_process() {
    ProcessSample s;
    {
        std::ifstream statm("/proc/self/statm");
        std::uint64_t size = 0;
        std::uint64_t resident = 0;
        if (statm >> size >> resident) {
            s.rss_kib = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
        }
    }
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') {
                ++s.fds;
            }
        }
        ::closedir(d);
        s.fds -= 1;  // the directory's own descriptor
    }
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "Threads:") {
            status >> s.threads;
            break;
        }
        status.ignore(1 << 12, '\n');
    }
    return s;
}

std::string load_average() {
    std::ifstream f("/proc/loadavg");
    std::string a;
    std::string b;
    std::string c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

// --- input and database ---------------------------------------------------------------------

// Writes n events, one JSON object per line; returns the file's size in bytes.
std::uint64_t write_input(const std::string& path, std::uint64_t n) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
        throw std::runtime_error("cannot create " + path);
    }
    std::minstd_rand rng(42);
    std::uniform_int_distribution<int> customer(1, kCustomers);
    std::uniform_int_distribution<int> cents(100, 99999);
    const std::uint64_t ts0 = 1'780'000'000'000ULL;  // ms since the epoch
    std::uint64_t bytes = 0;
    std::array<char, 160> line{};
    for (std::uint64_t i = 0; i < n; ++i) {
        const int c = cents(rng);
        const int len =
            std::snprintf(line.data(), line.size(),
                          "{\"id\":%llu,\"customer_id\":%d,\"amount\":%d.%02d,\"ts\":%llu}\n",
                          static_cast<unsigned long long>(i + 1), customer(rng), c / 100, c % 100,
                          static_cast<unsigned long long>(ts0 + i * 7));
        const auto size = static_cast<std::size_t>(len);
        if (std::fwrite(line.data(), 1, size, f) != size) {
            std::fclose(f);
            throw std::runtime_error("cannot write " + path);
        }
        bytes += size;
    }
    if (std::fclose(f) != 0) {
        throw std::runtime_error("cannot write " + path);
    }
    return bytes;
}

void seed_customers(const sf::pg::ConnectionOptions& options) {
    auto conn = sf::pg::Connection::open(options);
    conn.exec("DROP TABLE IF EXISTS customers");
    conn.exec(
        "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, tier text NOT NULL)");
    conn.exec(
        "INSERT INTO customers SELECT g, 'customer-' || g, "
        "(ARRAY['bronze', 'silver', 'gold', 'platinum'])[1 + g % 4] "
        "FROM generate_series(1, " +
        std::to_string(kCustomers) + ") AS g");
    conn.exec("ANALYZE customers");
    conn.close();
}

// --- latency -------------------------------------------------------------------------------

// Read times by sequence. In flight at once: workers x batch_size events (no stage here holds
// acks), far below the ring's size, so a slot is never reused before its event is acked.
class ReadStamps {
public:
    void stamp(std::uint64_t sequence, std::uint64_t ns) noexcept {
        slots_[sequence & kMask].store(ns, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t at(std::uint64_t sequence) const noexcept {
        return slots_[sequence & kMask].load(std::memory_order_relaxed);
    }

private:
    static constexpr std::size_t kSize = std::size_t{1} << 16;
    static constexpr std::uint64_t kMask = kSize - 1;
    std::vector<std::atomic<std::uint64_t>> slots_ = std::vector<std::atomic<std::uint64_t>>(kSize);
};

void record_since(sf::Histogram& h, std::uint64_t then_ns, std::uint64_t now) {
    h.record(std::chrono::nanoseconds(now >= then_ns ? now - then_ns : 0));
}

// Wraps the real source: stamps what read() returns, and measures read -> ack.
class TimedSource final : public sf::Source {
public:
    TimedSource(sf::Source& inner, ReadStamps& stamps)
        : inner_(inner),
          stamps_(stamps) {}

    void open(sf::Scope& scope) override { inner_.open(scope); }
    std::size_t read(std::span<sf::Event> out, const std::stop_token& stop) override {
        const std::size_t n = inner_.read(out, stop);
        const std::uint64_t t = now_ns();
        for (std::size_t i = 0; i < n; ++i) {
            stamps_.stamp(out[i].meta().sequence, t);
        }
        return n;
    }
    void ack(std::uint64_t sequence) override {
        record_since(to_ack_, stamps_.at(sequence), now_ns());
        acked_.fetch_add(1, std::memory_order_relaxed);
        inner_.ack(sequence);
    }
    void ack_many(std::span<const std::uint64_t> sequences) override {
        const std::uint64_t t = now_ns();
        for (const std::uint64_t s : sequences) {
            record_since(to_ack_, stamps_.at(s), t);
        }
        acked_.fetch_add(sequences.size(), std::memory_order_relaxed);
        inner_.ack_many(sequences);
    }
    void nack(std::uint64_t sequence, std::string_view reason) override {
        nacked_.fetch_add(1, std::memory_order_relaxed);
        inner_.nack(sequence, reason);
    }
    void commit() override { inner_.commit(); }

    [[nodiscard]] std::uint64_t acked() const noexcept { return acked_.load(); }
    [[nodiscard]] std::uint64_t nacked() const noexcept { return nacked_.load(); }
    [[nodiscard]] const sf::Histogram& to_ack() const noexcept { return to_ack_; }

private:
    sf::Source& inner_;
    ReadStamps& stamps_;
    sf::Histogram to_ack_;
    std::atomic<std::uint64_t> acked_{0};
    std::atomic<std::uint64_t> nacked_{0};
};

// The last stage of a branch: records read -> now. A sink (no route out).
class LatencyStage final : public sf::Stage {
public:
    LatencyStage(const ReadStamps& stamps, sf::Histogram& histogram)
        : Stage("latency"),
          stamps_(stamps),
          histogram_(histogram) {}

protected:
    sf::ActionId on_process(sf::Event& /*event*/, sf::TaskContext& task) override {
        record_since(histogram_, stamps_.at(task.sequence()), now_ns());
        return sf::kActionDefault;
    }

private:
    const ReadStamps& stamps_;
    sf::Histogram& histogram_;
};

// The events in a JSON array of objects (as the http_post stage sends): counts the top-level
// objects, skipping strings, so no parse tree is built.
std::uint64_t count_array_objects(std::string_view body) {
    std::uint64_t n = 0;
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char ch = body[i];
        if (in_string) {
            if (ch == '\\') {
                ++i;
            } else if (ch == '"') {
                in_string = false;
            }
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (ch == '{' && depth == 1) {
                ++n;
            }
            ++depth;
        } else if (ch == '}' || ch == ']') {
            --depth;
        }
    }
    return n;
}

// --- reporting ------------------------------------------------------------------------------

sf::Histogram::Snapshot minus(const sf::Histogram::Snapshot& a, const sf::Histogram::Snapshot& b) {
    sf::Histogram::Snapshot d;
    for (std::size_t i = 0; i < d.counts.size(); ++i) {
        d.counts[i] = a.counts[i] - b.counts[i];
    }
    d.count = a.count - b.count;
    d.sum_ns = a.sum_ns - b.sum_ns;
    d.max_ns = a.max_ns;  // an upper bound: quantile() clamps to it
    return d;
}

double ms(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

struct Sample {
    std::string label;
    std::uint64_t events = 0;
    double seconds = 0;
    ProcessSample process;
};

void print_sample(const Sample& s) {
    std::printf("  %-10s %11llu events %8.1f s   RSS %7.1f MiB   fds %3llu   threads %3llu\n",
                s.label.c_str(), static_cast<unsigned long long>(s.events), s.seconds,
                static_cast<double>(s.process.rss_kib) / 1024.0,
                static_cast<unsigned long long>(s.process.fds),
                static_cast<unsigned long long>(s.process.threads));
    std::fflush(stdout);
}

// --- the two pipelines ----------------------------------------------------------------------

struct RunResult {
    std::uint64_t events = 0;
    double seconds = 0;           // whole run: start() .. wait() returned
    double steady_rate = 0;       // events/s after warm-up
    sf::Histogram::Snapshot ack;  // read -> ack, after warm-up
};

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::fprintf(stderr, "e2e_benchmark: check failed: %s\n", what.c_str());
        std::exit(1);
    }
}

RunResult run_baseline(const std::string& input,
                       const std::string& dir,
                       std::uint64_t n,
                       std::size_t workers) {
    const std::string out = dir + "/out-baseline";
    fs::remove_all(out);
    fs::create_directories(out);
    sf::JsonlFileSource jsonl(
        {.path = input, .offset_path = dir + "/baseline.offset", .resume = false});
    ReadStamps stamps;
    TimedSource source(jsonl, stamps);
    sf::Graph g;
    auto sink_stage = std::make_unique<sf::FileSinkStage>(sf::FileSinkOptions{.directory = out});
    auto* sink = sink_stage.get();
    g.add_stage("sink", std::move(sink_stage));
    g.validate();
    sf::Scope root("bench-baseline");
    sf::Pipeline p("baseline", std::move(g), source, {.workers = workers});
    const std::uint64_t warm = std::min<std::uint64_t>(n / 10, 200'000);
    const auto start = Clock::now();
    p.start(root);
    // Note when warm-up ends (polling; the baseline is short).
    sf::Histogram::Snapshot at_warm{};
    Clock::time_point warm_at = start;
    bool warmed = warm == 0;
    while (!p.workers_done(5ms)) {
        if (!warmed && source.acked() >= warm) {
            at_warm = source.to_ack().snapshot();
            warm_at = Clock::now();
            warmed = true;
        }
    }
    p.wait();
    const auto end = Clock::now();
    if (!warmed) {
        warm_at = start;
    }
    const auto stats = p.stats();
    check(stats.read == n && stats.acked == n && sink->events_written() == n,
          "baseline: every event read, acked and written");
    RunResult r;
    r.events = n;
    r.seconds = seconds_between(start, end);
    r.ack = minus(source.to_ack().snapshot(), at_warm);
    r.steady_rate = static_cast<double>(n - at_warm.count) / seconds_between(warm_at, end);
    fs::remove_all(out);
    return r;
}

struct E2eResult {
    RunResult run;
    sf::Histogram::Snapshot in_graph;  // read -> end of branch, both branches, after warm-up
    std::vector<Sample> samples;
};

E2eResult run_e2e(const std::string& input,
                  const std::string& dir,
                  std::uint64_t n,
                  std::size_t workers,
                  const sf::pg::ConnectionOptions& pg) {
    E2eResult result;
    const auto t0 = Clock::now();
    const std::string out = dir + "/out-e2e";
    fs::remove_all(out);
    fs::create_directories(out);

    // The HTTP collector: counts what it receives.
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> posts{0};
    sf::http::Server collector({.name = "collector", .workers = 2});
    collector.route("POST", "/v1/events", [&](const sf::http::Request& req) {
        received.fetch_add(count_array_objects(req.body), std::memory_order_relaxed);
        posts.fetch_add(1, std::memory_order_relaxed);
        return sf::http::Response::json(200, "{}");
    });
    collector.start();

    auto db = sf::pg::make_postgres_database({.name = "customers_db", .max_size = workers}, pg);
    auto api = sf::http::Client::create({.name = "collector", .base_url = collector.url()},
                                        {.max_size = workers});

    sf::JsonlFileSource jsonl({.path = input, .offset_path = dir + "/e2e.offset", .resume = false});
    ReadStamps stamps;
    TimedSource source(jsonl, stamps);
    sf::Histogram in_graph;

    sf::Graph g;
    g.add_stage("lookup", std::make_unique<sf::SqlLookupStage>(sf::SqlLookupOptions{
                              .database = db,
                              .query = "SELECT name, tier FROM customers WHERE id = $1",
                              .params = {"customer_id"},
                              .into = "customer_",
                              .on_missing = sf::OnMissing::error}));
    auto sink_stage = std::make_unique<sf::FileSinkStage>(sf::FileSinkOptions{.directory = out});
    auto* sink = sink_stage.get();
    g.add_stage("sink", std::move(sink_stage));
    auto post_stage = std::make_unique<sf::HttpPostStage>(
        sf::HttpPostOptions{.client = api, .target = "/v1/events", .batch_size = 256});
    auto* post = post_stage.get();
    g.add_stage("post", std::move(post_stage));
    g.add_stage("latency_file", std::make_unique<LatencyStage>(stamps, in_graph));
    g.add_stage("latency_http", std::make_unique<LatencyStage>(stamps, in_graph));
    g.route("lookup", "default", "sink");
    g.route("lookup", "default", "post");
    g.route("sink", "default", "latency_file");
    g.route("post", "default", "latency_http");
    g.validate();

    sf::Scope root("bench-e2e");
    sf::Pipeline p("e2e", std::move(g), source, {.workers = workers});

    auto take = [&](std::string label, std::uint64_t events, Clock::time_point at) {
        result.samples.push_back(
            {std::move(label), events, seconds_between(t0, at), sample_process()});
        print_sample(result.samples.back());
    };
    take("start", 0, Clock::now());

    const std::uint64_t warm = std::min<std::uint64_t>(n / 10, 200'000);
    const auto start = Clock::now();
    p.start(root);
    sf::Histogram::Snapshot ack_warm{};
    sf::Histogram::Snapshot graph_warm{};
    Clock::time_point warm_at = start;
    bool warmed = false;
    std::uint64_t next_mark = kReportEvery;
    sf::Histogram::Snapshot ack_mark{};
    Clock::time_point mark_at = start;
    std::uint64_t mark_events = 0;
    while (!p.workers_done(20ms)) {
        const std::uint64_t done = source.acked();
        if (!warmed && done >= warm) {
            warm_at = Clock::now();
            ack_warm = source.to_ack().snapshot();
            graph_warm = in_graph.snapshot();
            warmed = true;
            take("warm-up", ack_warm.count, warm_at);
        }
        if (done >= next_mark) {
            const auto at = Clock::now();
            const auto ack_now = source.to_ack().snapshot();
            const auto interval = minus(ack_now, ack_mark);
            take(std::to_string(next_mark / kReportEvery) + "M", ack_now.count, at);
            std::printf(
                "             last interval: %8.0f events/s, read->ack p50 %.2f ms p99 %.2f ms;"
                " pg connections opened %llu, http %llu, load %s\n",
                static_cast<double>(ack_now.count - mark_events) / seconds_between(mark_at, at),
                ms(interval.quantile(0.5)), ms(interval.quantile(0.99)),
                static_cast<unsigned long long>(db->pool_stats().created),
                static_cast<unsigned long long>(api->stats().connections_opened),
                load_average().c_str());
            std::fflush(stdout);
            ack_mark = ack_now;
            mark_at = at;
            mark_events = ack_now.count;
            while (next_mark <= done) {
                next_mark += kReportEvery;
            }
        }
    }
    p.wait();
    const auto end = Clock::now();
    take("end", source.acked(), end);
    const auto stats = p.stats();
    const std::uint64_t pg_opened = db->pool_stats().created;
    const std::uint64_t http_opened = api->stats().connections_opened;

    // Every event: read, looked up, written to the file, POSTed, received, acked.
    check(stats.read == n, "read " + std::to_string(stats.read));
    check(stats.acked == n && source.nacked() == 0 && stats.failed == 0,
          "acked " + std::to_string(stats.acked) + ", failed " + std::to_string(stats.failed));
    check(stats.completed == 2 * n, "two branches per event");
    check(sink->events_written() == n, "file sink wrote " + std::to_string(sink->events_written()));
    check(post->events_posted() == n && post->events_failed() == 0,
          "http_post posted " + std::to_string(post->events_posted()));
    check(received.load() == n, "collector received " + std::to_string(received.load()));
    {
        // The enrichment is in what was written.
        std::string first;
        for (const auto& e : fs::directory_iterator(out)) {
            std::ifstream f(e.path());
            std::getline(f, first);
            break;
        }
        check(first.find("\"customer_tier\":") != std::string::npos, "enriched line: " + first);
    }
    std::printf(
        "  pipeline: read %llu, completed branches %llu, acked %llu; POSTs %llu (%.0f events "
        "each); connections opened: postgres %llu, http %llu\n",
        static_cast<unsigned long long>(stats.read),
        static_cast<unsigned long long>(stats.completed),
        static_cast<unsigned long long>(stats.acked), static_cast<unsigned long long>(posts.load()),
        static_cast<double>(n) / static_cast<double>(std::max<std::uint64_t>(1, posts.load())),
        static_cast<unsigned long long>(pg_opened), static_cast<unsigned long long>(http_opened));

    result.run.events = n;
    result.run.seconds = seconds_between(start, end);
    result.run.ack = minus(source.to_ack().snapshot(), ack_warm);
    result.in_graph = minus(in_graph.snapshot(), graph_warm);
    result.run.steady_rate =
        static_cast<double>(n - ack_warm.count) / seconds_between(warm_at, end);

    api->close(5s);
    db->close(5s);
    collector.close();
    take("closed", n, Clock::now());
    fs::remove_all(out);
    return result;
}

void print_latency(const char* what, const sf::Histogram::Snapshot& s) {
    std::printf("  %-34s p50 %8.2f ms   p99 %8.2f ms   mean %8.2f ms   max %8.2f ms\n", what,
                ms(s.quantile(0.5)), ms(s.quantile(0.99)), s.mean_ns() / 1e6, ms(s.max_ns));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::uint64_t n = argc > 1 ? std::stoull(argv[1]) : 10'000'000;
        const std::size_t workers = argc > 2 ? std::stoul(argv[2]) : 2;
        if (n == 0 || workers == 0) {
            std::fprintf(stderr, "usage: e2e_benchmark [events=10000000] [workers=2]\n");
            return 2;
        }
        const auto pg = server_options();
        std::string dir_template = (fs::temp_directory_path() / "scopeflow-e2e-XXXXXX").string();
        if (::mkdtemp(dir_template.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        const std::string dir = dir_template;
        const std::string input = dir + "/events.jsonl";

        std::printf("e2e_benchmark: %llu events, %zu workers, %u cores, load %s\n",
                    static_cast<unsigned long long>(n), workers,
                    std::thread::hardware_concurrency(), load_average().c_str());
        const auto w0 = Clock::now();
        const std::uint64_t bytes = write_input(input, n);
        std::printf("input: %s, %.1f MB, %.0f bytes/event (written in %.1f s)\n", input.c_str(),
                    static_cast<double>(bytes) / 1e6,
                    static_cast<double>(bytes) / static_cast<double>(n),
                    seconds_between(w0, Clock::now()));
        seed_customers(pg);
        std::printf("seeded customers: %d rows on %s\n", kCustomers, pg.describe().c_str());
        std::fflush(stdout);

        std::printf("\nbaseline (JSONL -> file sink), before:\n");
        const RunResult before = run_baseline(input, dir, n, workers);
        std::printf("  %.0f events/s (%.1f s)\n", static_cast<double>(n) / before.seconds,
                    before.seconds);

        std::printf("\nend to end (JSONL -> sql_lookup -> file sink + http_post), load %s:\n",
                    load_average().c_str());
        const E2eResult e2e = run_e2e(input, dir, n, workers, pg);

        std::printf("\nbaseline (JSONL -> file sink), after:\n");
        const RunResult after = run_baseline(input, dir, n, workers);
        std::printf("  %.0f events/s (%.1f s)\n", static_cast<double>(n) / after.seconds,
                    after.seconds);

        const double base_rate =
            (static_cast<double>(n) / before.seconds + static_cast<double>(n) / after.seconds) /
            2.0;
        const double e2e_rate = static_cast<double>(n) / e2e.run.seconds;
        std::printf("\nresults (%llu events, %zu workers, load at the end %s)\n",
                    static_cast<unsigned long long>(n), workers, load_average().c_str());
        std::printf("  %-34s %10.0f events/s  (after warm-up %.0f)\n",
                    "baseline JSONL -> file sink", base_rate,
                    (before.steady_rate + after.steady_rate) / 2.0);
        std::printf("  %-34s %10.0f events/s  (after warm-up %.0f)  = %.3fx baseline (1/%.0f)\n",
                    "end to end", e2e_rate, e2e.run.steady_rate, e2e_rate / base_rate,
                    base_rate / e2e_rate);
        std::printf("latency after warm-up:\n");
        print_latency("baseline read -> ack (before)", before.ack);
        print_latency("baseline read -> ack (after)", after.ack);
        print_latency("e2e read -> end of branch", e2e.in_graph);
        print_latency("e2e read -> ack", e2e.run.ack);
        std::printf("resources (RSS, fds, threads):\n");
        for (const auto& s : e2e.samples) {
            print_sample(s);
        }
        fs::remove_all(dir);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "e2e_benchmark: %s\n", e.what());
        return 1;
    }
}
