// The service config parser: typed sections, options as events, ${ENV}, and errors that name
// the file and line.
#include "service/config.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/error.h>

#include "service/units.h"

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
    EXPECT_STREQ(c.lines.located(e).what(), "p.yaml:22: graph.stages.keep.field: no such field");
    // An unknown deeper path falls back to the closest prefix the file mentions.
    EXPECT_EQ(c.lines.locate("graph.stages.audit.nothing"),
              "p.yaml:24: graph.stages.audit.nothing");
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
               "p.yaml:4: graph.stages.a: 'type' is required"},
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

}  // namespace
}  // namespace scopeflow::service
