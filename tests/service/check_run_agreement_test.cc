// `check` and `run` agree on every configuration error: for each file of a corpus of broken
// pipelines, `check` fails naming the place (file:line: path), and `run` fails with the same
// message before it touches a server. A file `check` accepts never fails `run` on its
// configuration.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "service/service_support.h"

namespace scopeflow::testing {
namespace {

struct Broken {
    const char* name;
    std::string yaml;    // "{dir}" is replaced by the test's directory
    std::string expect;  // part of the message both must print
};

const std::string kOff = "service: {admin: off}\n";
const std::string kGen = "source: {type: generator, count: 1}\n";
const std::string kLog = "graph: {stages: {a: {type: log}}}\n";

std::string stage(const std::string& options) {
    return kOff + kGen + "graph:\n  stages:\n    s: {" + options + "}\n";
}

std::string resource(const std::string& options) {
    return kOff + "resources:\n  r: {" + options + "}\n" + kGen + kLog;
}

std::string source(const std::string& options) {
    return kOff + "source: {" + options + "}\n" + kLog;
}

// The first line of `log` naming `file`, or "" when there is none.
std::string located_line(const std::string& log, const std::string& file) {
    const auto at = log.find(file + ":");
    if (at == std::string::npos) {
        return {};
    }
    return log.substr(at, log.find('\n', at) - at);
}

class CheckRunAgreementTest : public ::testing::TestWithParam<Broken> {};

TEST_P(CheckRunAgreementTest, CheckAndRunFailWithTheSameMessage) {
    TempDir d;
    std::string yaml = GetParam().yaml;
    for (auto at = yaml.find("{dir}"); at != std::string::npos; at = yaml.find("{dir}")) {
        yaml.replace(at, 5, d.path().string());
    }
    write_file(d / "file", "not a directory\n");
    write_file(d / "p.yaml", yaml);
    const std::string file = (d / "p.yaml").string();

    Service check({"check", file}, d / "check.log");
    EXPECT_EQ(check.wait(), 3) << check.log();
    const std::string said = located_line(check.log(), file);
    EXPECT_NE(said.find(GetParam().expect), std::string::npos)
        << "check said: " << check.log() << "\nexpected: " << GetParam().expect;

    Service run({"run", file}, d / "run.log");
    EXPECT_NE(run.wait(), 0) << "run accepted a file check rejects:\n" << run.log();
    ASSERT_FALSE(said.empty());
    EXPECT_NE(run.log().find(said), std::string::npos)
        << "check: " << said << "\nrun:   " << run.log();
}

INSTANTIATE_TEST_SUITE_P(
    Corpus,
    CheckRunAgreementTest,
    ::testing::Values(
        // Types and keys.
        Broken{"unknown_stage_type", stage("type: filtre"),
               "graph.stages.s.type (stage 's'): unknown stage type 'filtre' (did you mean "
               "'filter'?)"},
        Broken{"unknown_stage_option", stage("type: filter, field: x, feild: y"),
               "graph.stages.s.feild (stage 's'): unknown option 'feild' (did you mean 'field'?)"},
        Broken{"missing_required_option", stage("type: json_parse"),
               "graph.stages.s.field (stage 's'): is required"},
        Broken{"unknown_source_type", source("type: kafka"), "source.type: unknown type 'kafka'"},
        Broken{"unknown_resource_type", resource("type: mongo"),
               "resources.r.type: unknown type 'mongo'"},
        Broken{"unknown_resource_option", resource("type: sqlite, pth: x.db"),
               "resources.r.pth: unknown option 'pth' (did you mean 'path'?)"},
        // Kinds: lists vs strings, sizes, durations, booleans, choices, ranges.
        Broken{"command_given_as_a_string", stage("type: process, command: \"cat -u\""),
               "graph.stages.s.command (stage 's'): expected a list, not 'cat -u': write "
               "command: [cat, -u]"},
        Broken{"size_without_a_known_unit", stage("type: file_sink, max_bytes: 16 parsecs"),
               "graph.stages.s.max_bytes (stage 's'): expected a size"},
        Broken{"duration_without_a_unit", stage("type: process, command: [cat], timeout_ms: soon"),
               "graph.stages.s.timeout_ms (stage 's'): expected a duration"},
        Broken{"boolean_as_a_string", stage("type: json_parse, field: j, keep_source: \"yes\""),
               "graph.stages.s.keep_source (stage 's'): must be true or false"},
        Broken{"unknown_choice", stage("type: filter, field: x, op: like, value: 1"),
               "graph.stages.s.op (stage 's'): must be eq, ne, lt, le, gt, ge, exists or "
               "missing, not 'like'"},
        Broken{"out_of_range", stage("type: log, every: 0"),
               "graph.stages.s.every (stage 's'): must be at least 1"},
        Broken{"cross_option_rule", stage("type: filter, field: x, op: gt"),
               "graph.stages.s.value (stage 's'): is required for op 'gt'"},
        Broken{"generator_payload_not_a_boolean", source("type: generator, payload: 1"),
               "source.payload: must be true or false"},
        Broken{"stdin_zero_line_limit", source("type: stdin, max_line_bytes: 0"),
               "source.max_line_bytes: must be at least 1"},
        Broken{"sql_source_zero_page",
               kOff + "resources:\n  db: {type: sqlite}\n" +
                   "source: {type: sql, resource: db, query: q, key: "
                   "id, page_size: 0}\n" +
                   kLog,
               "source.page_size: must be at least 1"},
        Broken{"bad_pool_value", resource("type: sqlite, max_size: 0"), "resources.r.max_size"},
        Broken{"http_client_zero_timeout", resource("type: http, timeout: 0"),
               "resources.r.timeout: must be positive"},
        Broken{"memory_budget_zero", resource("type: memory, capacity: 0"),
               "resources.r.capacity: must be at least 1"},
        Broken{"postgres_without_dbname", resource("type: postgres, user: u"),
               "resources.r.dbname: is required"},
        Broken{"redis_port_out_of_range", resource("type: redis, port: 70000"),
               "resources.r.port: must be in 1..65535"},
        // Addresses and directories: what run needs of the outside world's shape.
        Broken{"http_source_address_without_port", source("type: http, address: nowhere"),
               "source.address: expected host:port"},
        Broken{"http_source_address_a_host_name", source("type: http, address: \"example.com:80\""),
               "source.address: expected host:port"},
        Broken{"http_source_path_without_slash",
               source("type: http, address: \"127.0.0.1:0\", "
                      "path: ingest"),
               "source.path: must start with '/'"},
        Broken{"admin_address", "service: {admin: nowhere}\n" + kGen + kLog, "service.admin"},
        Broken{"missing_publish_directory", stage("type: file_processor, directory: {dir}/missing"),
               "graph.stages.s.directory (stage 's'): '"},
        Broken{"sink_directory_under_a_file", stage("type: file_sink, directory: {dir}/file/out"),
               "graph.stages.s.directory (stage 's'): cannot create directory '"},
        Broken{"sink_prefix_with_a_slash", stage("type: file_sink, directory: {dir}, prefix: a/b"),
               "graph.stages.s.prefix (stage 's'): must be a plain file name prefix"},
        // Resources and routes.
        Broken{"missing_resource",
               stage("type: redis, resource: cache, command: get, key: k, into: v"),
               "graph.stages.s.resource (stage 's'): no resource named 'cache'"},
        Broken{"redis_read_without_into",
               kOff + "resources:\n  c: {type: redis}\n" + kGen +
                   "graph:\n  stages:\n    s: {type: redis, resource: c, command: get, key: k}\n",
               "graph.stages.s.into (stage 's'): is required for get"},
        Broken{"http_post_url_and_path",
               kOff + "resources:\n  h: {type: http, base_url: \"http://127.0.0.1:1\"}\n" + kGen +
                   "graph:\n  stages:\n    s: {type: http_post, resource: h, url: "
                   "\"http://127.0.0.1:1/x\", path: /x}\n",
               "graph.stages.s.url (stage 's'): set exactly one of 'url' and 'path'"},
        Broken{"route_to_missing_stage",
               kOff + kGen + "graph:\n  stages:\n    a: {type: log, routes: {default: nowhere}}\n",
               "graph.stages.a.routes.default (stage 'a'): stage 'a' routes action 'default' to "
               "stage 'nowhere', which does not exist"},
        Broken{"cycle_without_exit",
               kOff + kGen +
                   "graph:\n  stages:\n    a: {type: log, routes: {default: b}}\n"
                   "    b: {type: log, routes: {default: a}}\n",
               "form a cycle no event can leave"},
        Broken{"missing_dead_letter_stage",
               kOff + kGen + "graph:\n  dead_letter: dlq\n" + "  stages: {a: {type: log}}\n",
               "graph.dead_letter"}),
    [](const ::testing::TestParamInfo<Broken>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace scopeflow::testing
