// The scopeflow binary, run for real: check, run with a finite input, SIGTERM mid-run, SIGHUP
// reload under load (good and bad), /metrics validated by promtool, /readyz, the exit report.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <scopeflow/http/server.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

using namespace std::chrono_literals;

std::string jsonl(int n) {
    return jsonl_ids(n, [](int i) { return ",\"price\":" + std::to_string(i % 100); });
}

// Lines and distinct ids in the sink's published parts.
struct SinkCount {
    std::size_t lines = 0;
    std::set<std::string> ids;
};
SinkCount count_sink(const std::filesystem::path& dir) {
    SinkCount c;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".jsonl") {
            continue;
        }
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line)) {
            ++c.lines;
            const auto at = line.find("\"id\":");
            c.ids.insert(line.substr(at + 5, line.find(',', at) - at - 5));
        }
    }
    return c;
}

std::string file_pipeline(const TempDir& d, const std::string& input, int workers = 2) {
    return "service:\n  admin: 127.0.0.1:0\n  shutdown_timeout: 10s\n"
           "source: {type: jsonl, path: " +
           (d / input).string() +
           "}\n"
           "graph:\n  workers: " +
           std::to_string(workers) +
           "\n  batch_size: 256\n  stages:\n"
           "    sink: {type: file_sink, directory: " +
           (d / "out").string() + ", max_bytes: 200000}\n";
}

// Nested aliases, 10^9 values once expanded.
std::string alias_bomb() {
    std::string y =
        "source: {type: generator, count: 10}\ngraph:\n  stages:\n    s:\n      type: fields\n     "
        " set:\n"
        "        l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 10; ++i) {
        y += "        l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) {
            y += (k == 0 ? "*l" : ", *l") + std::to_string(i - 1);
        }
        y += "]\n";
    }
    return y;
}

TEST(ServiceBinaryTest, RunsAFiniteInputToTheEndWithNothingLeaked) {
    TempDir d;
    write_file(d / "in.jsonl", jsonl(5000));
    std::filesystem::create_directories(d / "out");
    write_file(d / "p.yaml", file_pipeline(d, "in.jsonl"));
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    const SinkCount c = count_sink(d / "out");
    EXPECT_EQ(c.lines, 5000U);
    EXPECT_EQ(c.ids.size(), 5000U);
    EXPECT_EQ(count_files_ending(d.path(), ".tmp"), 0U);
    EXPECT_NE(svc.log().find("exit report: live resources 0, extra fds 0, child processes 0"),
              std::string::npos)
        << svc.log();
}

TEST(ServiceBinaryTest, SigtermMidRunLosesNoEventAndTheRestartResumes) {
    TempDir d;
    constexpr int kEvents = 1'500'000;
    write_file(d / "in.jsonl", jsonl(kEvents));
    std::filesystem::create_directories(d / "out");
    write_file(d / "p.yaml", file_pipeline(d, "in.jsonl"));
    {
        Service svc({"run", (d / "p.yaml").string()}, d / "log1");
        ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
        svc.signal(SIGTERM);
        ASSERT_EQ(svc.wait(), 0) << svc.log();
        const SinkCount first = count_sink(d / "out");
        EXPECT_GT(first.lines, 0U);
        EXPECT_LT(first.lines, static_cast<std::size_t>(kEvents)) << "stopped too late to test";
        EXPECT_NE(svc.log().find("signal 15: draining"), std::string::npos);
    }
    Service again({"run", (d / "p.yaml").string()}, d / "log2");
    ASSERT_EQ(again.wait(), 0) << again.log();
    const SinkCount total = count_sink(d / "out");
    EXPECT_EQ(total.ids.size(), static_cast<std::size_t>(kEvents));  // none lost
    EXPECT_EQ(total.lines, static_cast<std::size_t>(kEvents));       // none twice
    EXPECT_EQ(count_files_ending(d.path(), ".tmp"), 0U);
}

TEST(ServiceBinaryTest, ReloadUnderLoadSwapsPipelinesAndLeaksNothing) {
    TempDir d;
    write_file(
        d / "p.yaml",
        "service: {admin: '127.0.0.1:0'}\n"
        "resources:\n  db: {type: sqlite, path: " +
            (d / "x.db").string() +
            "}\n  mem: {type: memory, capacity: 1MiB}\n"
            "source: {type: generator, count: 0, payload: true}\n"
            "graph:\n  stages:\n    keep: {type: filter, field: price, op: ge, value: 10}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    for (int i = 2; i <= 4; ++i) {
        svc.signal(SIGHUP);
        ASSERT_TRUE(svc.wait_for_log("reloaded: generation " + std::to_string(i))) << svc.log();
    }
    // A broken file is rejected and the running pipeline goes on.
    write_file(d / "p.yaml", "source: {type: generator}\ngraph: {stages: {a: {type: nope}}}\n");
    svc.signal(SIGHUP);
    ASSERT_TRUE(svc.wait_for_log("reload rejected")) << svc.log();
    EXPECT_NE(svc.log().find("p.yaml:2: graph.stages.a.type (stage 'a'): unknown stage type"),
              std::string::npos)
        << svc.log();
    // A reload reads the file as `check` does: a bomb is refused within the limits.
    write_file(d / "p.yaml", alias_bomb());
    svc.signal(SIGHUP);
    ASSERT_TRUE(svc.wait_for_log("expands to more than 100000 values")) << svc.log();
    const auto port = svc.admin_port();
    EXPECT_EQ(http_get(port, "/healthz").first, 200);
    const auto [status, metrics] = http_get(port, "/metrics");
    EXPECT_EQ(status, 200);
    EXPECT_NE(metrics.find("scopeflow_reloads_total{result=\"ok\"} 3"), std::string::npos);
    EXPECT_NE(metrics.find("scopeflow_reloads_total{result=\"failed\"} 2"), std::string::npos);
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_NE(svc.log().find("exit report: live resources 0, extra fds 0, child processes 0"),
              std::string::npos)
        << svc.log();
}

TEST(ServiceBinaryTest, MetricsPassPromtoolAndEndpointsAnswer) {
    TempDir d;
    write_file(d / "p.yaml",
               "service: {admin: '127.0.0.1:0'}\n"
               "resources:\n  db: {type: sqlite}\n  files: {type: files, max_open: 8}\n"
               "source: {type: generator, count: 0}\n"
               "graph:\n  stages:\n    log: {type: filter, field: seq, op: lt, value: 0}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    const auto port = svc.admin_port();
    ASSERT_NE(port, 0) << svc.log();
    const auto [status, metrics] = http_get(port, "/metrics");
    ASSERT_EQ(status, 200);
    write_file(d / "metrics.txt", metrics);
    const std::string cmd =
        "promtool check metrics < '" + (d / "metrics.txt").string() + "' > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << metrics;  // NOLINT(concurrency-mt-unsafe)
    EXPECT_NE(metrics.find("scopeflow_pool_active{pool=\"db\",type=\"sqlite\"}"),
              std::string::npos);
    EXPECT_NE(metrics.find("scopeflow_events_read_total{pipeline=\"main\"}"), std::string::npos);
    EXPECT_EQ(http_get(port, "/readyz").first, 200);
    const auto [rs, resources] = http_get(port, "/resources");
    EXPECT_EQ(rs, 200);
    EXPECT_NE(resources.find("\"name\":\"db\""), std::string::npos) << resources;
    EXPECT_NE(resources.find("\"ledger\""), std::string::npos) << resources;
    EXPECT_EQ(http_get(port, "/nope").first, 404);
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait(), 0) << svc.log();
}

TEST(ServiceBinaryTest, ReadyzNamesAnUnreachableResource) {
    TempDir d;
    write_file(d / "p.yaml",
               "service: {admin: '127.0.0.1:0'}\n"
               "resources:\n  cache: {type: redis, port: 1, connect_timeout: 200ms}\n"
               "source: {type: generator, count: 0}\n"
               "graph:\n  stages:\n    keep: {type: filter, field: seq, op: lt, value: 0}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    const auto port = svc.admin_port();
    ASSERT_NE(port, 0) << svc.log();
    const auto [status, body] = http_get(port, "/readyz");
    EXPECT_EQ(status, 503);
    EXPECT_NE(body.find("resource 'cache' (redis) unreachable"), std::string::npos) << body;
    EXPECT_EQ(http_get(port, "/healthz").first, 200);  // alive, just not ready
    svc.signal(SIGINT);
    EXPECT_EQ(svc.wait(), 0) << svc.log();
}

TEST(ServiceBinaryTest, MonitorResourcesPrintsPlainLinesWhenNotATerminal) {
    TempDir d;
    write_file(d / "p.yaml",
               "service: {admin: 'off'}\nresources:\n  db: {type: sqlite}\n"
               "source: {type: generator, count: 0}\n"
               "graph:\n  stages:\n    keep: {type: filter, field: seq, op: lt, value: 0}\n");
    Service svc({"run", "--monitor-resources", (d / "p.yaml").string()}, d / "log");
    ASSERT_TRUE(svc.wait_for_log("monitor: events")) << svc.log();
    ASSERT_TRUE(svc.wait_for_log("pool db: active")) << svc.log();
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_EQ(svc.log().find("\x1b["), std::string::npos);  // no terminal escapes in a file
}

TEST(ServiceBinaryTest, ForcedShutdownReportsTheStuckWorkAndExits5) {
    TempDir d;
    write_file(d / "p.yaml",
               "service: {admin: 'off', shutdown_timeout: 300ms}\n"
               "source: {type: generator, count: 0}\n"
               "graph:\n  workers: 1\n  stages:\n"
               "    slow: {type: process, command: [sleep, '30'], timeout_ms: 60000}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    if (!svc.wait_for_log("running", 10s)) {
        GTEST_SKIP() << "process stage options differ: " << svc.log();
    }
    std::this_thread::sleep_for(300ms);
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait(), 5) << svc.log();
    EXPECT_NE(svc.log().find("stuck at shutdown: worker-0"), std::string::npos) << svc.log();
}

TEST(ServiceBinaryTest, DemoAccountsForEveryOrderAndLeaksNothing) {
    TempDir d;
    Service svc({"demo", "--rows", "3000"}, d / "log");
    ASSERT_EQ(svc.wait(), 0) << svc.log();
    const std::string out = read_file((d / "log").string() + ".out");
    EXPECT_NE(out.find("uploaded (unique)           3000"), std::string::npos) << out;
    EXPECT_NE(out.find("files published             3000"), std::string::npos) << out;
    EXPECT_NE(out.find("leaks                       ledger 0, extra fds 0, temp files 0, "
                       "children 0"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("result                      ok"), std::string::npos) << out;
}

TEST(ServiceBinaryTest, DemoWithSimulatedFailuresRecoversOrDeadLettersAndLeaksNothing) {
    TempDir d;
    Service svc(
        {"demo", "--rows", "3000", "--simulate-failures=11", "--dir", (d / "work").string()},
        d / "log");
    ASSERT_EQ(svc.wait(), 0) << svc.log() << read_file((d / "log").string() + ".out");
    const std::string out = read_file((d / "log").string() + ".out");
    EXPECT_NE(out.find("every order accounted for   yes"), std::string::npos) << out;
    EXPECT_NE(out.find("leaks                       ledger 0, extra fds 0, temp files 0, "
                       "children 0"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("dead-lettered               0 "), std::string::npos) << out;  // faults hit
    EXPECT_EQ(out.find("retries                     http 0,"), std::string::npos) << out;
    // Temp files: none left anywhere in the work directory.
    std::size_t tmp = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(d / "work")) {
        tmp += e.path().filename().string().rfind("processing-", 0) == 0 ? 1U : 0U;
    }
    EXPECT_EQ(tmp, 0U);
}

TEST(ServiceBinaryTest, ExamplePostgresRedisFileChecks) {
    TempDir d;
    for (const char* sub : {"processed", "tmp", "dead-letter"}) {
        std::filesystem::create_directories(d / sub);
    }
    ::setenv("WORK", d.path().c_str(), 1);
    ::setenv("INGEST_URL", "http://127.0.0.1:9/ingest", 1);
    ::setenv("PGPASSWORD", "unused-by-check", 1);
    ::setenv("SCOPEFLOW_TEST_REDIS_PASSWORD", "unused-by-check", 1);
    Service svc({"check", SCOPEFLOW_EXAMPLES_DIR "/postgres-redis.yaml"}, d / "log");
    EXPECT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_NE(read_file((d / "log").string() + ".out").find("ok (3 resources, source sql"),
              std::string::npos)
        << svc.log();
}

TEST(ServiceBinaryTest, HttpSourceAnswersOnceTheEventsAreProcessed) {
    TempDir d;
    // A port free a moment ago (the kernel hands out ephemeral ports round robin).
    std::uint16_t port = 0;
    {
        http::Server probe({.name = "probe"});
        probe.start();
        port = probe.port();
    }
    std::filesystem::create_directories(d / "out");
    write_file(d / "p.yaml",
               "service: {admin: 'off'}\nsource: {type: http, address: "
               "'127.0.0.1:" +
                   std::to_string(port) +
                   "'}\ngraph:\n  stages:\n    sink: {type: file_sink, "
                   "directory: " +
                   (d / "out").string() + "}\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    ASSERT_TRUE(svc.wait_for_log("running")) << svc.log();
    auto options = std::make_shared<http::ClientOptions>();
    options->name = "test";
    http::Session session = http::Session::open(options);
    http::Request post;
    post.method = "POST";
    post.target = "http://127.0.0.1:" + std::to_string(port) + "/ingest";
    post.body = "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n";
    const http::Response r = session.perform(post);
    EXPECT_EQ(r.status, 200) << r.body << svc.log();
    post.body = "{\"id\":4}\nnope\n";
    EXPECT_EQ(session.perform(post).status, 400);
    svc.signal(SIGTERM);
    EXPECT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_EQ(count_sink(d / "out").lines, 3U);
}

// --- check ---------------------------------------------------------------------------------

struct BadConfig {
    const char* name;
    std::string yaml;
    const char* expect;  // in stderr, with "p.yaml:<line>"
};

class CheckTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(CheckTest, ExitsWith3AndNamesFileAndLine) {
    TempDir d;
    write_file(d / "p.yaml", GetParam().yaml);
    Service svc({"check", (d / "p.yaml").string()}, d / "log");
    EXPECT_EQ(svc.wait(), 3) << svc.log();
    const std::string log = svc.log();
    EXPECT_NE(log.find((d / "p.yaml").string() + ":"), std::string::npos) << log;
    EXPECT_NE(log.find(GetParam().expect), std::string::npos) << log;
}

const std::string kSrc = "source: {type: generator, count: 10}\n";

INSTANTIATE_TEST_SUITE_P(
    Broken,
    CheckTest,
    ::testing::Values(
        BadConfig{"misspelled_section", "grpah: {}\n" + kSrc, "did you mean 'graph'?"},
        BadConfig{
            "misspelled_stage_option",
            kSrc + "graph:\n  stages:\n    f: {type: filter, feild: x}\n",
            "p.yaml:4: graph.stages.f.feild (stage 'f'): unknown option 'feild' (did you mean "
            "'field'?)"},
        BadConfig{"unknown_stage_type", kSrc + "graph:\n  stages:\n    f: {type: filtre}\n",
                  "p.yaml:4: graph.stages.f.type (stage 'f'): unknown stage type 'filtre'"},
        BadConfig{"route_to_missing_stage",
                  kSrc + "graph:\n  stages:\n    f:\n      type: log\n"
                         "      routes: {default: nowhere}\n",
                  "p.yaml:6: graph.stages.f.routes.default (stage 'f'): stage 'f' routes action "
                  "'default' to "
                  "stage 'nowhere', which does not exist"},
        BadConfig{"missing_resource",
                  kSrc + "graph:\n  stages:\n    r: {type: redis, resource: cache, command: get, "
                         "key: k, into: v}\n",
                  "p.yaml:4: graph.stages.r.resource (stage 'r'): no resource named 'cache'"},
        BadConfig{"zero_workers", kSrc + "graph:\n  workers: 0\n  stages: {a: {type: log}}\n",
                  "p.yaml:3: graph.workers"},
        BadConfig{
            "bad_duration",
            "service: {shutdown_timeout: forever}\n" + kSrc + "graph: {stages: {a: {type: log}}}\n",
            "p.yaml:1: service.shutdown_timeout"},
        BadConfig{"literal_password",
                  "resources:\n  c: {type: redis, password: s3cr3t-value}\n" + kSrc +
                      "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:2: resources.c.password: secrets are never written"},
        BadConfig{"unknown_resource_type",
                  "resources:\n  c: {type: mongo}\n" + kSrc + "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:2: resources.c.type: unknown type 'mongo'"},
        BadConfig{"unknown_resource_option",
                  "resources:\n  c: {type: sqlite, pth: x.db}\n" + kSrc +
                      "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:2: resources.c.pth: unknown option 'pth'"},
        BadConfig{"bad_pool_value",
                  "resources:\n  c: {type: sqlite, max_size: 0}\n" + kSrc +
                      "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:2: resources.c.max_size"},
        BadConfig{"unknown_source_type",
                  "source: {type: kafka}\ngraph: {stages: {a: {type: log}}}\n",
                  "p.yaml:1: source.type: unknown type 'kafka'"},
        BadConfig{"bad_admin_address",
                  "service: {admin: nowhere}\n" + kSrc + "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:1: service.admin"},
        BadConfig{"missing_dead_letter_stage",
                  kSrc + "graph:\n  dead_letter: dlq\n  stages: {a: {type: log}}\n",
                  "p.yaml:3: graph.dead_letter"},
        BadConfig{"unset_environment_variable",
                  "source: {type: jsonl, path: '${SCOPEFLOW_TEST_SURELY_UNSET}'}\n"
                  "graph: {stages: {a: {type: log}}}\n",
                  "p.yaml:1: source.path: environment variable SCOPEFLOW_TEST_SURELY_UNSET is "
                  "not set"},
        BadConfig{"duplicate_key",
                  kSrc + "graph:\n  workers: 2\n  workers: 3\n  stages: {a: {type: log}}\n",
                  "p.yaml:4: graph.workers: duplicate key 'workers' (first at line 3)"},
        BadConfig{"duplicate_stage_name",
                  kSrc + "graph:\n  stages:\n    a: {type: log}\n    a: {type: log}\n",
                  "p.yaml:5: graph.stages.a: duplicate key 'a' (first at line 4)"},
        BadConfig{"command_given_as_a_string",
                  kSrc + "graph:\n  stages:\n    p: {type: process, command: \"cat -u\"}\n",
                  "p.yaml:4: graph.stages.p.command (stage 'p'): expected a list, not 'cat -u': "
                  "write command: [cat, -u]"},
        BadConfig{"cycle_without_exit",
                  kSrc + "graph:\n  stages:\n    a: {type: log, routes: {default: b}}\n"
                         "    b: {type: log, routes: {default: a}}\n",
                  "p.yaml:4: graph.stages.a (stage 'a'): stages 'a' -> 'b' -> 'a' form a cycle no "
                  "event can leave"},
        BadConfig{"size_without_a_known_unit",
                  kSrc + "graph:\n  stages:\n    s: {type: file_sink, max_bytes: 16 parsecs}\n",
                  "p.yaml:4: graph.stages.s.max_bytes (stage 's'): expected a size"},
        BadConfig{"invalid_yaml", "graph: {stages: [\n", "p.yaml:2: invalid YAML"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(ServiceBinaryTest, CheckRejectsYamlBombsQuicklyInLittleMemory) {
    TempDir d;
    const std::pair<std::string, std::string> bombs[] = {
        {alias_bomb(), "expands to more than 100000 values"},
        {std::string(5'000'000, '['), "the file is larger than the limit of 4194304 bytes"},
        {"a: " + std::string(1'000'000, '['), "p.yaml:1: nested deeper than 64 levels"},
    };
    for (const auto& [yaml, expect] : bombs) {
        write_file(d / "p.yaml", yaml);
        const auto start = std::chrono::steady_clock::now();
        Service svc({"check", (d / "p.yaml").string()}, d / "log");
        EXPECT_EQ(svc.wait(), 3) << svc.log();
        EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  2.0)
            << expect;
        EXPECT_NE(svc.log().find(expect), std::string::npos) << svc.log();
    }
    rusage usage{};
    ASSERT_EQ(::getrusage(RUSAGE_CHILDREN, &usage), 0);
    EXPECT_LT(usage.ru_maxrss, 200L * 1024) << "peak RSS of a check, KiB";
}

TEST(ServiceBinaryTest, CheckAndRunAgreeOnAMissingSinkDirectory) {
    TempDir d;
    write_file(d / "in.jsonl", jsonl(10));
    write_file(d / "p.yaml", "source: {type: jsonl, path: " + (d / "in.jsonl").string() +
                                 ", commit_interval_ms: 1s}\ngraph:\n  stages:\n"
                                 "    sink: {type: file_sink, directory: " +
                                 (d / "new" / "out").string() + ", max_bytes: 16MiB}\n");
    Service check({"check", (d / "p.yaml").string()}, d / "check.log");
    EXPECT_EQ(check.wait(), 0) << check.log();
    Service run({"run", (d / "p.yaml").string()}, d / "run.log");
    EXPECT_EQ(run.wait(), 0) << run.log();
    EXPECT_EQ(count_sink(d / "new" / "out").lines, 10U);
}

TEST(ServiceBinaryTest, AStageThatFailsToOpenIsNamedWithItsLine) {
    TempDir d;
    write_file(d / "in.jsonl", jsonl(10));
    write_file(d / "file", "not a directory\n");
    write_file(d / "p.yaml",
               "service: {admin: off}\nsource: {type: jsonl, path: " + (d / "in.jsonl").string() +
                   "}\ngraph:\n  stages:\n"
                   "    sink:\n      type: file_sink\n      directory: " +
                   (d / "file" / "out").string() + "\n");
    Service svc({"run", (d / "p.yaml").string()}, d / "log");
    EXPECT_NE(svc.wait(), 0) << svc.log();
    EXPECT_NE(svc.log().find(":7: graph.stages.sink.directory (stage 'sink'): cannot create "
                             "directory '" +
                             (d / "file" / "out").string() + "'"),
              std::string::npos)
        << svc.log();
}

TEST(ServiceBinaryTest, CheckAcceptsAGoodFile) {
    TempDir d;
    std::filesystem::create_directories(d / "out");
    write_file(d / "in.jsonl", jsonl(1));
    write_file(d / "p.yaml", file_pipeline(d, "in.jsonl"));
    Service svc({"check", (d / "p.yaml").string()}, d / "log");
    EXPECT_EQ(svc.wait(), 0) << svc.log();
    EXPECT_NE(read_file((d / "log").string() + ".out").find("ok (0 resources, source jsonl"),
              std::string::npos);
}

TEST(ServiceBinaryTest, StagesListsTypesWithTheirOptions) {
    TempDir d;
    Service svc({"stages"}, d / "log");
    EXPECT_EQ(svc.wait(), 0);
    const std::string out = read_file((d / "log").string() + ".out");
    for (const char* t :
         {"file_sink", "filter", "redis", "http_post", "jsonl", "generator", "sqlite", "memory"}) {
        EXPECT_NE(out.find(t), std::string::npos) << t << "\n" << out;
    }
}

}  // namespace
}  // namespace scopeflow::testing
