// The service config parser: typed sections, options as events, ${ENV}, and errors that name
// the file and line.
#include "service/config.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/units.h>

#include "service/builder.h"
#include "support/temp_dir.h"

namespace scopeflow::service {
namespace {

using namespace std::chrono_literals;

const char* const kGood = R"(service:
  admin: 127.0.0.1:0
  shutdown_timeout: 5s
resources:
  db:
    type: sqlite
    path: /tmp/x.db
    pool: {max_size: 4}
source:
  type: jsonl
  path: in.jsonl
graph:
  workers: 3
  batch_size: 128
  dead_letter: dlq
  stages:
    parse:
      type: json_parse
      routes: {default: [keep, audit]}
    keep:
      type: filter
      field: "42"
      value: 42
    audit: {type: log}
    dlq: {type: log}
failures:
  seed: 7
  rules:
    - {point: "sql", probability: 0.5}
)";

// The message of the ConfigError that parsing `yaml` throws ("" if none).
std::string error_of(const std::string& yaml) {
    try {
        (void)parse_config(yaml, "p.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(ConfigTest, ParsesEverySection) {
    const ServiceConfig c = parse_config(kGood, "p.yaml");
    EXPECT_EQ(c.service.admin, "127.0.0.1:0");
    EXPECT_EQ(c.service.shutdown_timeout, 5s);
    ASSERT_EQ(c.resources.size(), 1u);
    EXPECT_EQ(c.resources[0].name, "db");
    EXPECT_EQ(c.resources[0].type, "sqlite");
    EXPECT_EQ(c.resources[0].options.get_string("path"), "/tmp/x.db");
    ASSERT_NE(c.resources[0].options.find("pool"), nullptr);
    EXPECT_EQ(c.resources[0].options.get_string("pool"), std::nullopt);  // raw JSON, not a string
    EXPECT_EQ(c.source.type, "jsonl");
    EXPECT_EQ(c.graph.workers, 3u);
    EXPECT_EQ(c.graph.batch_size, 128u);
    ASSERT_EQ(c.graph.stages.size(), 4u);
    EXPECT_EQ(c.graph.stages[0].name, "parse");
    ASSERT_EQ(c.graph.stages[0].routes.size(), 2u);
    EXPECT_EQ(c.graph.stages[0].routes[1].to, "audit");
    // A quoted scalar stays a string; a plain number is an integer.
    EXPECT_EQ(c.graph.stages[1].options.get_string("field"), "42");
    EXPECT_EQ(c.graph.stages[1].options.get_int("value"), 42);
    EXPECT_EQ(c.failures.seed, 7u);
    ASSERT_EQ(c.failures.rules.size(), 1u);
    EXPECT_DOUBLE_EQ(c.failures.rules[0].probability, 0.5);
}

TEST(ConfigTest, LocatesFactoryErrorsByTheirPath) {
    const ServiceConfig c = parse_config(kGood, "p.yaml");
    const ConfigError e("graph.stages.keep.field", "no such field");
    EXPECT_STREQ(c.lines.located(e).what(),
                 "p.yaml:22: graph.stages.keep.field (stage 'keep'): no such field");
    // An unknown deeper path falls back to the closest prefix the file mentions.
    EXPECT_EQ(c.lines.locate("graph.stages.audit.nothing"),
              "p.yaml:24: graph.stages.audit.nothing (stage 'audit')");
    EXPECT_EQ(c.lines.locate("graph.workers"), "p.yaml:13: graph.workers");
}

TEST(ConfigTest, InterpolatesTheEnvironment) {
    ::setenv("SCOPEFLOW_TEST_DIR", "/data", 1);
    ::unsetenv("SCOPEFLOW_TEST_UNSET");
    EXPECT_EQ(interpolate_env("${SCOPEFLOW_TEST_DIR}/in.jsonl", "w"), "/data/in.jsonl");
    EXPECT_EQ(interpolate_env("${SCOPEFLOW_TEST_UNSET:-/tmp}/x", "w"), "/tmp/x");
    EXPECT_EQ(interpolate_env("cost $${PRICE}", "w"), "cost ${PRICE}");
    EXPECT_EQ(interpolate_env("user:${user_id}", "w"), "user:${user_id}");  // a stage template
    EXPECT_THROW((void)interpolate_env("${SCOPEFLOW_TEST_UNSET}", "w"), ConfigError);
    const std::string msg = error_of(
        "source: {type: jsonl, path: '${SCOPEFLOW_TEST_UNSET}'}\n"
        "graph: {stages: {a: {type: log}}}\n");
    EXPECT_NE(msg.find("p.yaml:1: source.path"), std::string::npos) << msg;
    EXPECT_NE(msg.find("SCOPEFLOW_TEST_UNSET is not set"), std::string::npos) << msg;
}

struct Broken {
    const char* name;
    std::string yaml;
    const char* expect;  // substring of the error, which must include file and line
};

class BrokenConfigTest : public ::testing::TestWithParam<Broken> {};

TEST_P(BrokenConfigTest, NamesFileLineAndField) {
    const std::string msg = error_of(GetParam().yaml);
    ASSERT_FALSE(msg.empty()) << "accepted: " << GetParam().yaml;
    EXPECT_NE(msg.find(GetParam().expect), std::string::npos) << msg;
}

const std::string kTail = "source: {type: jsonl, path: x}\ngraph: {stages: {a: {type: log}}}\n";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    BrokenConfigTest,
    ::testing::Values(
        Broken{"bad_yaml", "source: [unclosed\n", "p.yaml:2"},
        Broken{"unknown_section", "servce: {}\n" + kTail,
               "p.yaml:1: servce: unknown option 'servce' (did you mean 'service'?)"},
        Broken{"unknown_service_field", "service:\n  shutdown_timout: 5s\n" + kTail,
               "p.yaml:2: service.shutdown_timout"},
        Broken{"bad_duration", "service:\n  shutdown_timeout: soon\n" + kTail,
               "p.yaml:2: service.shutdown_timeout: expected a duration"},
        Broken{"bad_log_format", "service:\n  log_format: xml\n" + kTail,
               "p.yaml:2: service.log_format: 'xml' is not one of: plain, json"},
        Broken{"no_source", "graph: {stages: {a: {type: log}}}\n", "source: a source is required"},
        Broken{"no_stages", "source: {type: jsonl}\ngraph:\n  workers: 2\n",
               "p.yaml:2: graph.stages: the graph needs at least one stage"},
        Broken{"zero_workers",
               "source: {type: jsonl}\ngraph:\n  workers: 0\n  stages: {a: {type: log}}\n",
               "p.yaml:3: graph.workers: expected a whole number >= 1"},
        Broken{"stage_without_type",
               "source: {type: jsonl}\ngraph:\n  stages:\n    a:\n      routes: {}\n",
               "p.yaml:4: graph.stages.a (stage 'a'): 'type' is required"},
        Broken{"literal_password",
               "resources:\n  db:\n    type: postgres\n    password: hunter22\n" + kTail,
               "p.yaml:4: resources.db.password: secrets are never written in the config file"},
        Broken{"nested_secret",
               "resources:\n  api:\n    type: http\n    headers: {token: abc}\n" + kTail,
               "p.yaml:4: resources.api.headers.token"},
        Broken{"bad_probability", kTail + "failures:\n  rules:\n    - {point: x, probability: 2}\n",
               "p.yaml:5: failures.rules.0.probability"},
        Broken{"rule_without_trigger", kTail + "failures:\n  rules:\n    - {point: x}\n",
               "p.yaml:5: failures.rules.0: a rule needs nth"},
        Broken{"not_a_map", "- a\n- b\n", "p.yaml: the file must be a YAML mapping"}),
    [](const ::testing::TestParamInfo<Broken>& p) { return std::string(p.param.name); });

TEST(ConfigTest, SecretsNeverAppearInErrors) {
    const std::string msg =
        error_of("resources:\n  db:\n    type: postgres\n    password: hunter22\n" + kTail);
    EXPECT_EQ(msg.find("hunter22"), std::string::npos) << msg;
}

TEST(UnitsTest, DurationsAndSizes) {
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("30s"), 30s);
    EXPECT_EQ(parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_duration("2m"), 120s);
    EXPECT_EQ(parse_duration("1h"), 3600s);
    EXPECT_EQ(parse_duration("100"), 100ms);
    EXPECT_FALSE(parse_duration("soon"));
    EXPECT_FALSE(parse_duration("5 parsecs"));
    EXPECT_FALSE(parse_duration("-1s"));
    EXPECT_EQ(parse_bytes("64KiB"), 65536u);
    EXPECT_EQ(parse_bytes("16MiB"), 16u * 1024 * 1024);
    EXPECT_EQ(parse_bytes("1GB"), 1000000000u);
    EXPECT_EQ(parse_bytes("512"), 512u);
    EXPECT_FALSE(parse_bytes("lots"));
}

// --- limits: what a file may make the loader do ----------------------------------------------

// Nested aliases: each level repeats the one before ten times (10^9 values at the last).
std::string alias_bomb() {
    std::string y =
        "source: {type: generator, count: 1}\ngraph:\n  stages:\n    s:\n      type: fields\n"
        "      set:\n        l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 10; ++i) {
        const std::string prev = "*l" + std::to_string(i - 1);
        y += "        l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) {
            y += (k == 0 ? "" : ", ") + prev;
        }
        y += "]\n";
    }
    return y;
}

// The error for `yaml` and how long parsing it took.
std::pair<std::string, std::chrono::duration<double>> timed_error_of(const std::string& yaml) {
    const auto start = std::chrono::steady_clock::now();
    std::string msg = error_of(yaml);
    return {msg, std::chrono::steady_clock::now() - start};
}

TEST(ConfigLimitsTest, AnAliasBombIsRejectedQuickly) {
    const auto [msg, elapsed] = timed_error_of(alias_bomb());
    EXPECT_NE(msg.find("p.yaml:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expands to more than 100000 values (an alias counts its values at each "
                       "use), the limit for a pipeline file"),
              std::string::npos)
        << msg;
    EXPECT_LT(elapsed.count(), 2.0);
}

TEST(ConfigLimitsTest, ASelfReferencingAliasIsRejected) {
    const auto [msg, elapsed] = timed_error_of("a: &a [x, *a]\n" + std::string(kTail));
    EXPECT_FALSE(msg.empty());
    EXPECT_LT(elapsed.count(), 2.0);
}

TEST(ConfigLimitsTest, BracketBombsAreRejectedQuickly) {
    {
        const auto [msg, elapsed] = timed_error_of(std::string(5'000'000, '['));
        EXPECT_EQ(msg, "p.yaml: the file is 5000000 bytes, more than the limit of 4194304 bytes");
        EXPECT_LT(elapsed.count(), 2.0);
    }
    {
        const auto [msg, elapsed] = timed_error_of("a: " + std::string(4'000'000, '['));
        EXPECT_EQ(msg, "p.yaml:1: nested deeper than 64 levels (the limit for a pipeline file)");
        EXPECT_LT(elapsed.count(), 2.0);
    }
    {
        std::string dashes = "a:\n";
        for (int i = 0; i < 1'000'000; ++i) {
            dashes += "- ";
        }
        const auto [msg, elapsed] = timed_error_of(dashes + "x\n");
        EXPECT_EQ(msg, "p.yaml:2: nested deeper than 64 levels (the limit for a pipeline file)");
        EXPECT_LT(elapsed.count(), 2.0);
    }
}

TEST(ConfigLimitsTest, TooManyValuesAreRejectedBeforeParsing) {
    std::string flat = "a: [x";
    for (int i = 0; i < 1'500'000; ++i) {
        flat += ",x";
    }
    const auto [msg, elapsed] = timed_error_of(flat + "]\n");
    EXPECT_EQ(msg,
              "p.yaml:1: the file holds more than 100000 values, the limit for a pipeline file");
    EXPECT_LT(elapsed.count(), 2.0);
}

TEST(ConfigLimitsTest, DepthIsCountedOnTheParsedTreeToo) {
    // 65 levels of block mappings, the indentation growing by one each time.
    std::string y;
    for (int i = 0; i < 65; ++i) {
        y += std::string(static_cast<std::size_t>(i), ' ') + "k" + std::to_string(i) + ":\n";
    }
    EXPECT_NE(error_of(y + kTail).find("nested deeper than 64 levels"), std::string::npos);
    // What real files do (nested flow maps, quoted brackets, block scalars) stays well inside.
    EXPECT_EQ(
        error_of(std::string(kTail) + "failures:\n  rules:\n    - {point: \"[[[[[[\", nth: 1}\n"),
        "");
}

TEST(ConfigLimitsTest, ABigFileIsRejectedWithoutReadingItAll) {
    const testing::TempDir dir;
    const auto path = dir / "big.yaml";
    {
        std::ofstream out(path, std::ios::binary);
        out << kTail << "# " << std::string(5'000'000, 'x') << "\n";
    }
    try {
        (void)load_config(path);
        ADD_FAILURE() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  path.string() + ": the file is larger than the limit of 4194304 bytes");
    }
}

// --- duplicate keys ---------------------------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(
    Duplicates,
    BrokenConfigTest,
    ::testing::Values(
        Broken{"duplicate_section",
               "source: {type: jsonl, path: a}\ngraph: {stages: {a: {type: log}}}\n"
               "source: {type: jsonl, path: b}\n",
               "p.yaml:3: source: duplicate key 'source' (first at line 1)"},
        Broken{"duplicate_graph_field",
               "source: {type: jsonl}\ngraph:\n  workers: 2\n  stages: {a: {type: log}}\n"
               "  workers: 3\n",
               "p.yaml:5: graph.workers: duplicate key 'workers' (first at line 3)"},
        Broken{"duplicate_stage_name",
               "source: {type: jsonl}\ngraph:\n  stages:\n    a: {type: log}\n    b: {type: log}\n"
               "    a: {type: filter}\n",
               "p.yaml:6: graph.stages.a: duplicate key 'a' (first at line 4)"},
        Broken{"duplicate_option_in_a_flow_map",
               "source: {type: jsonl, path: a, path: b}\ngraph: {stages: {a: {type: log}}}\n",
               "p.yaml:1: source.path: duplicate key 'path' (first at line 1)"},
        Broken{"duplicate_nested_key",
               "resources:\n  api:\n    type: http\n    headers:\n      X-A: 1\n      X-A: 2\n" +
                   kTail,
               "p.yaml:6: resources.api.headers.X-A: duplicate key 'X-A' (first at line 5)"},
        Broken{"duplicate_in_a_list_item",
               kTail + "failures:\n  rules:\n    - point: x\n      nth: 1\n      point: y\n",
               "p.yaml:7: failures.rules.0.point: duplicate key 'point' (first at line 5)"}),
    [](const ::testing::TestParamInfo<Broken>& p) { return std::string(p.param.name); });

// --- building: what `check` (and `run`) reject ------------------------------------------------

// The error building `yaml` throws ("" if none): what `scopeflow check` prints.
std::string build_error_of(const std::string& yaml) {
    try {
        const ServiceConfig cfg = parse_config(yaml, "p.yaml");
        (void)build(cfg);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

const std::string kGen = "source: {type: generator, count: 1}\n";

TEST(ConfigBuildTest, ACommandGivenAsAStringIsRejectedSuggestingTheList) {
    EXPECT_EQ(
        build_error_of(kGen + "graph:\n  stages:\n    p: {type: process, command: \"cat -u\"}\n"),
        "p.yaml:4: graph.stages.p.command (stage 'p'): expected a list, not 'cat -u': write "
        "command: [cat, -u]");
    EXPECT_EQ(
        build_error_of(kGen + "graph:\n  stages:\n    p: {type: process, command: [cat, -u]}\n"),
        "");
    // env entries may hold commas ("K=a,b"): a list too.
    EXPECT_EQ(build_error_of(kGen + "graph:\n  stages:\n    p: {type: process, command: [env], "
                                    "env: \"A=1\"}\n"),
              "p.yaml:4: graph.stages.p.env (stage 'p'): expected a list, not 'A=1': write env: "
              "[A=1]");
}

TEST(ConfigBuildTest, ACycleNoEventCanLeaveIsRejectedNamingItsStages) {
    const std::string msg =
        build_error_of(kGen +
                       "graph:\n  stages:\n    a: {type: log, routes: {default: b}}\n"
                       "    b: {type: fields, routes: {default: a}}\n");
    EXPECT_NE(msg.find("p.yaml:4: graph.stages.a (stage 'a'): stages 'a' -> 'b' -> 'a' form a "
                       "cycle no event can leave"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("max_hops 16"), std::string::npos) << msg;
    // A self-loop, and a fan-out whose other branch ends: the looping copy still never leaves.
    EXPECT_NE(build_error_of(kGen + "graph:\n  stages:\n    a: {type: log, routes: {default: a}}\n")
                  .find("stages 'a' -> 'a' form a cycle"),
              std::string::npos);
    EXPECT_NE(build_error_of(kGen + "graph:\n  stages:\n"
                                    "    a: {type: log, routes: {default: [a, out]}}\n"
                                    "    out: {type: log}\n")
                  .find("stages 'a' -> 'a' form a cycle"),
              std::string::npos);
}

TEST(ConfigBuildTest, ACycleWithAWayOutIsAccepted) {
    // The filter drops what does not match; the window ends its inputs.
    EXPECT_EQ(build_error_of(kGen + "graph:\n  stages:\n"
                                    "    a: {type: log, routes: {default: f}}\n"
                                    "    f: {type: filter, field: n, op: lt, value: 3, routes: "
                                    "{default: a}}\n"),
              "");
    EXPECT_EQ(build_error_of(kGen + "graph:\n  stages:\n"
                                    "    a: {type: log, routes: {default: w}}\n"
                                    "    w: {type: tumbling_window, time_field: ts, routes: "
                                    "{default: a}}\n"),
              "");
    // The error action is no way out: it fails the event.
    EXPECT_NE(build_error_of(kGen + "graph:\n  dead_letter: dlq\n  stages:\n"
                                    "    a: {type: log, routes: {default: a}}\n"
                                    "    dlq: {type: log}\n")
                  .find("form a cycle"),
              std::string::npos);
}

// Every size and duration option goes through the one parser for its kind (units.h): a unit
// string is accepted wherever the option is a size or a duration, garbage is rejected with the
// hint, at the option's line.
struct UnitOption {
    const char* name;
    std::string head;   // the file up to the option's block
    std::string block;  // "{type: ..., <option>: VALUE}", VALUE replaced
    std::string path;   // the option's dotted path
    const char* good;   // a unit string
    const char* kind;   // "duration" or "size"
};

class UnitOptionTest : public ::testing::TestWithParam<UnitOption> {};

std::string with_value(std::string block, const std::string& value) {
    return block.replace(block.find("VALUE"), 5, value);
}

TEST_P(UnitOptionTest, TakesUnitsAndNamesThePlaceOfGarbage) {
    const UnitOption& o = GetParam();
    EXPECT_EQ(build_error_of(o.head + with_value(o.block, o.good)), "") << o.good;
    const std::string msg = build_error_of(o.head + with_value(o.block, "12 parsecs"));
    EXPECT_NE(msg.find("p.yaml:"), std::string::npos) << msg;
    EXPECT_NE(msg.find(o.path), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("expected a ") + o.kind), std::string::npos) << msg;
    EXPECT_NE(msg.find("got '12 parsecs'"), std::string::npos) << msg;
}

const std::string kLog = "graph: {stages: {a: {type: log}}}\n";
const std::string kStage = kGen + "graph:\n  stages:\n    s: ";
const std::string kRes = "resources:\n  r: ";

INSTANTIATE_TEST_SUITE_P(
    Options,
    UnitOptionTest,
    ::testing::Values(
        UnitOption{"file_sink_max_bytes", kStage, "{type: file_sink, max_bytes: VALUE}\n",
                   "graph.stages.s.max_bytes (stage 's')", "16MiB", "size"},
        UnitOption{"process_timeout", kStage,
                   "{type: process, command: [cat], timeout_ms: VALUE}\n",
                   "graph.stages.s.timeout_ms", "2.5s", "duration"},
        UnitOption{"process_grace", kStage,
                   "{type: process, command: [cat], terminate_grace_ms: VALUE}\n",
                   "graph.stages.s.terminate_grace_ms", "500ms", "duration"},
        UnitOption{"window_size", kStage,
                   "{type: tumbling_window, time_field: ts, size_ms: VALUE}\n",
                   "graph.stages.s.size_ms", "5m", "duration"},
        UnitOption{
            "sql_backoff", "resources: {db: {type: sqlite}}\n" + kStage,
            "{type: sql_upsert, resource: db, query: 'INSERT INTO t SELECT $1', params: [a], "
            "backoff_ms: VALUE}\n",
            "graph.stages.s.backoff_ms", "50ms", "duration"},
        UnitOption{"redis_ttl", "resources: {c: {type: redis}}\n" + kStage,
                   "{type: redis, resource: c, command: set, key: k, value: v, ttl_ms: VALUE}\n",
                   "graph.stages.s.ttl_ms", "1h", "duration"},
        UnitOption{"redis_backoff", "resources: {c: {type: redis}}\n" + kStage,
                   "{type: redis, resource: c, command: incr, key: k, retry_backoff_ms: VALUE}\n",
                   "graph.stages.s.retry_backoff_ms", "1s", "duration"},
        UnitOption{"jsonl_commit_interval",
                   "source: ", "{type: jsonl, path: x, commit_interval_ms: VALUE}\n" + kLog,
                   "source.commit_interval_ms", "2s", "duration"},
        UnitOption{"jsonl_max_line",
                   "source: ", "{type: jsonl, path: x, max_line_bytes: VALUE}\n" + kLog,
                   "source.max_line_bytes", "64KiB", "size"},
        UnitOption{"stdin_max_line", "source: ", "{type: stdin, max_line_bytes: VALUE}\n" + kLog,
                   "source.max_line_bytes", "4MB", "size"},
        UnitOption{"http_max_body", "source: ",
                   "{type: http, address: '127.0.0.1:0', max_body_bytes: VALUE}\n" + kLog,
                   "source.max_body_bytes", "16MiB", "size"},
        UnitOption{
            "sql_poll", "resources: {db: {type: sqlite}}\nsource: ",
            "{type: sql, resource: db, query: 'SELECT 1', key: id, poll_interval_ms: VALUE}\n" +
                kLog,
            "source.poll_interval_ms", "250ms", "duration"},
        UnitOption{"pool_acquire_timeout", kRes,
                   "{type: sqlite, acquire_timeout: VALUE}\n" + kGen + kLog,
                   "resources.r.acquire_timeout", "1.5s", "duration"},
        UnitOption{"sqlite_busy_timeout", kRes,
                   "{type: sqlite, busy_timeout: VALUE}\n" + kGen + kLog,
                   "resources.r.busy_timeout", "10s", "duration"},
        UnitOption{"memory_capacity", kRes, "{type: memory, capacity: VALUE}\n" + kGen + kLog,
                   "resources.r.capacity", "1GiB", "size"},
        UnitOption{"http_max_response", kRes,
                   "{type: http, max_response_bytes: VALUE}\n" + kGen + kLog,
                   "resources.r.max_response_bytes", "512KB", "size"},
        UnitOption{"redis_command_timeout", kRes,
                   "{type: redis, command_timeout: VALUE}\n" + kGen + kLog,
                   "resources.r.command_timeout", "250ms", "duration"},
        UnitOption{"postgres_connect_timeout", kRes,
                   "{type: postgres, dbname: d, user: u, connect_timeout: VALUE}\n" + kGen + kLog,
                   "resources.r.connect_timeout", "3s", "duration"},
        UnitOption{"service_shutdown", "service: ", "{shutdown_timeout: VALUE}\n" + kGen + kLog,
                   "service.shutdown_timeout", "1m", "duration"},
        UnitOption{"service_progress", "service: ", "{progress_interval: VALUE}\n" + kGen + kLog,
                   "service.progress_interval", "10s", "duration"}),
    [](const ::testing::TestParamInfo<UnitOption>& p) { return std::string(p.param.name); });

// Errors from the objects a resource builds cite the option as the file spells it.
TEST(ConfigBuildTest, ErrorsCiteTheOptionsTheFileHas) {
    EXPECT_EQ(build_error_of("resources:\n  r: {type: memory, capacity: 0}\n" + kGen + kLog),
              "p.yaml:2: resources.r.capacity: must be at least 1");
    EXPECT_EQ(build_error_of("resources:\n  r: {type: files, max_open: 0}\n" + kGen + kLog),
              "p.yaml:2: resources.r.max_open: must be at least 1");
    EXPECT_EQ(build_error_of("resources:\n  r: {type: http, timeout: 0}\n" + kGen + kLog),
              "p.yaml:2: resources.r.timeout: must be positive");
    EXPECT_EQ(build_error_of("resources:\n  r: {type: http}\n" + kGen +
                             "graph: {stages: {a: {type: http_post, resource: r, path: /x}}}\n"),
              "p.yaml:4: graph.stages.a.path (stage 'a'): a path needs a client with a base_url "
              "(client 'r' has none)");
}

TEST(UnitsTest, OneParserForEachKind) {
    EXPECT_EQ(parse_bytes("16MiB"), 16u << 20);
    EXPECT_EQ(parse_bytes("1.5KiB"), 1536u);
    EXPECT_EQ(parse_bytes("64KB"), 64000u);
    EXPECT_EQ(parse_bytes("64kB"), 64000u);
    EXPECT_EQ(parse_bytes("7B"), 7u);
    EXPECT_FALSE(parse_bytes("0.5"));  // not a whole byte
    EXPECT_FALSE(parse_bytes("nan"));
    EXPECT_FALSE(parse_bytes("inf"));
    EXPECT_FALSE(parse_duration("nanms"));
    EXPECT_FALSE(parse_duration("1e300h"));
    EXPECT_EQ(parse_duration("2min"), 120s);
    // A stage option takes a YAML integer as milliseconds / bytes, and a unit string.
    StageOptions o;
    o.set("t", Value(std::int64_t{250}));
    o.set("u", Value("2s"));
    o.set("b", Value("16MiB"));
    EXPECT_EQ(optional_duration(o, "t", 0ms, "s"), 250ms);
    EXPECT_EQ(optional_duration(o, "u", 0ms, "s"), 2s);
    EXPECT_EQ(optional_bytes(o, "b", 0, "s"), 16u << 20);
    EXPECT_EQ(optional_bytes(o, "missing", 9, "s"), 9u);
}
}  // namespace
}  // namespace scopeflow::service
