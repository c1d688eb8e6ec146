#include "service/demo.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <scopeflow/core/error.h>
#include <scopeflow/core/fault_injector.h>
#include <scopeflow/http/client.h>
#include <scopeflow/http/server.h>
#include <scopeflow/core/ledger.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/core/resource_monitor.h>
#include <scopeflow/core/scope.h>
#include <scopeflow/sql/database.h>
#include <scopeflow/sources/sql_source.h>

#include "service/builder.h"
#include "service/config.h"
#include "service/current.h"
#include "service/exit_codes.h"
#include "service/logging.h"
#include "service/monitor_view.h"
#include "service/process_info.h"

namespace scopeflow::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::atomic<bool> g_interrupted{false};
extern "C" void on_demo_signal(int /*sig*/) {
    g_interrupted.store(true);
}

// The demo's ingest endpoint: counts the orders it receives (and duplicates), and under
// simulation answers some requests 503 or too slowly (the client times out).
class Ingest {
public:
    explicit Ingest(std::optional<std::uint64_t> seed)
        : server_({.name = "ingest", .workers = 2, .max_body_bytes = 8 << 20}),
          simulate_(seed.has_value()),
          rng_(seed.value_or(1)) {
        server_.route("POST", "/ingest", [this](const http::Request& r) { return handle(r); });
        server_.start();
    }
    [[nodiscard]] std::string url() const { return server_.url() + "/ingest"; }
    void close() { server_.close(); }

    struct Counts {
        std::uint64_t requests = 0, unique = 0, duplicates = 0, injected_503 = 0, injected_slow = 0;
    };
    Counts counts() const {
        std::lock_guard lock(mu_);
        return counts_;
    }

private:
    http::Response handle(const http::Request& r) {
        enum { ok, fail, slow } what = ok;
        {
            std::lock_guard lock(mu_);
            ++counts_.requests;
            if (simulate_) {
                const double x = std::uniform_real_distribution<double>(0, 1)(rng_);
                what = x < 0.06 ? fail : (x < 0.08 ? slow : ok);
            }
            if (what == fail) {
                ++counts_.injected_503;
                return http::Response::text(503, "simulated outage\n");
            }
            if (what == slow) {
                ++counts_.injected_slow;
            }
        }
        if (what == slow) {  // longer than the uploader's timeout: it gives up and retries
            for (int i = 0; i < 30 && !r.stop.stop_requested(); ++i) {
                std::this_thread::sleep_for(50ms);
            }
            return http::Response::text(503, "too late\n");
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        if (parser.parse(r.body).get(doc) != simdjson::SUCCESS || !doc.is_array()) {
            return http::Response::text(400, "expected a JSON array of events\n");
        }
        std::lock_guard lock(mu_);
        for (simdjson::dom::element e : doc.get_array()) {
            std::int64_t id = 0;
            if (e["id"].get(id) == simdjson::SUCCESS) {
                if (ids_.insert(id).second) {
                    ++counts_.unique;
                } else {
                    ++counts_.duplicates;
                }
            }
        }
        return http::Response::text(200, "ok\n");
    }

    http::Server server_;
    const bool simulate_;
    mutable std::mutex mu_;
    std::mt19937_64 rng_;         // guarded by mu_
    std::set<std::int64_t> ids_;  // guarded by mu_
    Counts counts_;               // guarded by mu_
};

std::string make_work_dir(const DemoOptions& o) {
    if (!o.directory.empty()) {
        fs::create_directories(o.directory);
        return fs::absolute(o.directory).string();
    }
    std::string pattern = (fs::temp_directory_path() / "scopeflow-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw Error("cannot create a work directory under " + fs::temp_directory_path().string());
    }
    return pattern;
}

std::size_t count_files(const fs::path& dir, const std::string& extension) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && (extension.empty() || it->path().extension() == extension)) {
            ++n;
        }
    }
    return n;
}

std::size_t count_lines(const fs::path& dir, const std::string& prefix) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.rfind(prefix, 0) != 0 || name.ends_with(".tmp")) {
            continue;
        }
        std::ifstream in(it->path());
        std::string line;
        while (std::getline(in, line)) {
            ++n;
        }
    }
    return n;
}

// Seeds the orders table through the configured database resource.
void seed_orders(sql::Database& db, std::uint64_t rows) {
    Scope scope("demo-seed", {.track = false});
    db.query(scope, "DROP TABLE IF EXISTS orders", {});
    db.query(scope,
             "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, "
             "amount NUMERIC NOT NULL, region TEXT NOT NULL)",
             {});
    static const char* const kRegions[] = {"eu-west", "us-east", "ap-south"};
    std::vector<sql::Params> batch;
    for (std::uint64_t i = 1; i <= rows; ++i) {
        batch.push_back({std::to_string(i), "customer-" + std::to_string(i % 97),
                         std::to_string(static_cast<double>(i % 1000) * 1.25),
                         std::string(kRegions[i % 3])});
        if (batch.size() == 1000 || i == rows) {
            db.execute_batch(scope,
                             "INSERT INTO orders (id, customer, amount, region) "
                             "VALUES (CAST($1 AS INTEGER), $2, CAST($3 AS NUMERIC), $4)",
                             batch);
            batch.clear();
        }
    }
}

std::string demo_config(const DemoOptions& o, const std::string& dir, const std::string& ingest) {
    std::string db;
    if (o.postgres.empty()) {
        db = "  orders_db: {type: sqlite, path: '" + dir + "/orders.db', max_size: 4}\n";
    } else {
        // host:port/dbname/user
        const auto colon = o.postgres.find(':');
        const auto s1 = o.postgres.find('/');
        const auto s2 = o.postgres.find('/', s1 + 1);
        db = "  orders_db: {type: postgres, host: '" + o.postgres.substr(0, colon) + "', port: '" +
             o.postgres.substr(colon + 1, s1 - colon - 1) + "', dbname: '" +
             o.postgres.substr(s1 + 1, s2 - s1 - 1) + "', user: '" + o.postgres.substr(s2 + 1) +
             "', password_env: " + o.postgres_password_env + ", max_size: 4}\n";
    }
    return "service: {admin: 'off', shutdown_timeout: 10s}\n"
           "resources:\n" +
           db +
           "  api: {type: http, timeout: 1s, connect_timeout: 1s, max_attempts: 4, max_size: " +
           std::to_string(o.workers) +
           "}\n"
           "source:\n"
           "  type: sql\n"
           "  resource: orders_db\n"
           "  query: SELECT id, customer, amount, region FROM orders WHERE id > CAST($1 AS "
           "INTEGER) ORDER BY id LIMIT CAST($2 AS INTEGER)\n"
           "  key: id\n"
           "  page_size: 250\n"
           "graph:\n"
           "  workers: " +
           std::to_string(o.workers) +
           "\n"
           "  batch_size: 50\n"
           "  dead_letter: dead_letter\n"
           "  stages:\n"
           "    file_processor:\n"
           "      type: file_processor\n"
           "      directory: '" +
           dir + "/processed'\n      temp_directory: '" + dir +
           "/tmp'\n"
           "      routes: {default: api_uploader}\n"
           "    api_uploader:\n"
           "      type: http_post\n"
           "      resource: api\n"
           "      url: '" +
           ingest +
           "'\n"
           "      batch_size: 50\n"
           "      routes: {default: notification}\n"
           "    notification:\n"
           "      type: notify\n"
           "      path: '" +
           dir +
           "/notifications.log'\n"
           "      fields: [customer, amount]\n"
           "    dead_letter:\n"
           "      type: file_sink\n"
           "      directory: '" +
           dir + "/dead-letter'\n      prefix: failed\n";
}

void arm_demo_faults(FaultInjector& faults) {
    // Database disconnects: a lease of the orders database fails as a lost connection would.
    faults.arm({.phase = FaultPhase::acquire, .point = "lease orders_db", .probability = 0.15});
    // Write errors in the FileProcessor, before and after the data is written.
    faults.arm({.phase = FaultPhase::use, .point = "file_processor.write", .probability = 0.01});
    faults.arm({.phase = FaultPhase::use, .point = "file_processor.publish", .probability = 0.01});
    // Exceptions in the Notification stage.
    faults.arm({.phase = FaultPhase::use, .point = "notify", .probability = 0.01});
}

}  // namespace

int run_demo(const DemoOptions& o) {
    init_logging("plain", "info");
    std::optional<std::uint64_t> seed;
    if (o.simulate_failures) {
        try {
            seed = std::stoull(*o.simulate_failures);
        } catch (const std::exception&) {
            std::fprintf(stderr, "scopeflow demo: --simulate-failures expects a seed, got '%s'\n",
                         o.simulate_failures->c_str());
            return kExitUsage;
        }
    }
    struct sigaction sa {};
    sa.sa_handler = on_demo_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const ProcessInfo at_start = read_process_info();
    const std::string dir = make_work_dir(o);
    for (const char* sub : {"processed", "tmp", "dead-letter"}) {
        fs::create_directories(fs::path(dir) / sub);
    }
    spdlog::info("demo: work directory {}", dir);

    int code = kExitOk;
    PipelineStats stats;
    Ingest::Counts ingest_counts;
    std::uint64_t http_retries = 0;
    std::uint64_t db_broken = 0;
    std::uint64_t read_retries = 0;
    {
        Ingest ingest(seed);
        const std::string yaml = demo_config(o, dir, ingest.url());
        { std::ofstream(fs::path(dir) / "demo.yaml") << yaml; }
        ServiceConfig cfg = parse_config(yaml, (fs::path(dir) / "demo.yaml").string());
        Built built = build(cfg);
        auto db = built.resources->get<sql::Database>("orders_db", "demo");
        seed_orders(*db, o.rows);
        spdlog::info("demo: {} orders in {} ({}); ingest endpoint {}", o.rows,
                     o.postgres.empty() ? "SQLite" : "PostgreSQL", db->engine(), ingest.url());

        FaultInjector faults(seed.value_or(1));
        if (seed) {
            arm_demo_faults(faults);
            spdlog::info("demo: simulating failures with seed {}", *seed);
        }
        CurrentGeneration current;
        {
            Scope root("demo", {.level = ScopeLevel::pipeline, .faults = seed ? &faults : nullptr});
            Pipeline pipeline("demo", std::move(built.graph), *built.source, built.pipeline);
            std::unique_ptr<MonitorView> monitor;
            try {
                pipeline.start(root);
                current.set(&pipeline, built.probes);
                if (o.monitor_resources) {
                    monitor = std::make_unique<MonitorView>(current);
                }
                while (!pipeline.workers_done(100ms)) {
                    if (g_interrupted.load()) {
                        spdlog::info("demo: interrupted, draining");
                        if (!pipeline.drain(10s)) {
                            for (const auto& b : pipeline.busy_workers()) {
                                spdlog::error("stuck: {}", b);
                            }
                        }
                    }
                }
                pipeline.wait();
            } catch (const std::exception&) {
                spdlog::error("demo pipeline failed: {}", describe(std::current_exception()));
                code = kExitFailure;
            }
            monitor.reset();
            current.set(nullptr, nullptr);
            stats = pipeline.stats();
        }
        for (const auto& p : *built.probes) {
            if (p.pool && p.name == "orders_db") {
                db_broken = p.pool().broken;
            }
        }
        if (auto api = built.resources->get<http::Client>("api", "demo")) {
            http_retries = api->stats().retries;
        }
        if (auto* src = dynamic_cast<SqlSource*>(built.source.get())) {
            read_retries = src->read_retries();
        }
        db.reset();
        built.source.reset();
        built.resources->clear();
        ingest.close();
        ingest_counts = ingest.counts();
    }

    const std::uint64_t live = Ledger::global().live_total();
    const ProcessInfo at_end = read_process_info();
    const std::uint64_t extra_fds =
        at_end.open_fds > at_start.open_fds ? at_end.open_fds - at_start.open_fds : 0;
    const std::size_t temp_left =
        count_files(fs::path(dir) / "tmp", "") + count_files(fs::path(dir) / "dead-letter", ".tmp");
    const std::size_t published = count_files(fs::path(dir) / "processed", ".json");
    const std::size_t notified = count_lines(dir, "notifications.log.w");
    const std::size_t dead = count_lines(fs::path(dir) / "dead-letter", "failed");
    // Every order went all the way through (completed) or to the dead-letter stage, once.
    const bool accounted = !g_interrupted.load() && stats.read == o.rows &&
                           stats.completed + stats.dead_lettered == o.rows &&
                           stats.completed <= ingest_counts.unique;
    const bool leaked = live != 0 || extra_fds != 0 || temp_left != 0 || at_end.children != 0;

    std::printf(
        "\nscopeflow demo report\n"
        "  orders in the database      %llu\n"
        "  events read                 %llu\n"
        "  files published             %zu\n"
        "  uploaded (unique)           %llu   duplicates re-sent after a failure: %llu\n"
        "  notifications               %zu\n"
        "  completed (every stage)     %llu\n"
        "  dead-lettered               %llu (%zu lines in dead-letter/)\n"
        "  acked / nacked              %llu / %llu\n"
        "  retries                     http %llu, database reads %llu, connections replaced %llu\n"
        "  injected                    ingest 503 %llu, ingest too slow %llu%s\n"
        "  leaks                       ledger %llu, extra fds %llu, temp files %zu, children %llu\n"
        "  every order accounted for   %s\n"
        "  result                      %s\n",
        static_cast<unsigned long long>(o.rows), static_cast<unsigned long long>(stats.read),
        published, static_cast<unsigned long long>(ingest_counts.unique),
        static_cast<unsigned long long>(ingest_counts.duplicates), notified,
        static_cast<unsigned long long>(stats.completed),
        static_cast<unsigned long long>(stats.dead_lettered), dead,
        static_cast<unsigned long long>(stats.acked), static_cast<unsigned long long>(stats.nacked),
        static_cast<unsigned long long>(http_retries),
        static_cast<unsigned long long>(read_retries), static_cast<unsigned long long>(db_broken),
        static_cast<unsigned long long>(ingest_counts.injected_503),
        static_cast<unsigned long long>(ingest_counts.injected_slow),
        seed ? " (plus database, file and notification faults)" : "",
        static_cast<unsigned long long>(live), static_cast<unsigned long long>(extra_fds),
        temp_left, static_cast<unsigned long long>(at_end.children),
        accounted ? "yes (completed + dead-lettered == orders)" : "NO",
        leaked ? "LEAKED" : (accounted && code == kExitOk ? "ok" : "FAILED"));
    std::fflush(stdout);
    if (leaked) {
        for (const auto& e : Ledger::global().snapshot().entries) {
            spdlog::error("leaked: {} '{}' owned by {} (acquired at {})", to_string(e.kind), e.name,
                          e.owner_path, e.site);
        }
    }
    if (o.directory.empty() && !o.keep) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    } else {
        spdlog::info("demo: kept {}", dir);
    }
    if (leaked) {
        return kExitLeaked;
    }
    if (code != kExitOk || !accounted) {
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace scopeflow::service
