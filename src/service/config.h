// The service's pipeline file: YAML with ${ENV} interpolation, read into plain structs.
//
//   service:   {admin: 127.0.0.1:9464, shutdown_timeout: 30s, log_format: plain}
//   resources: {orders_db: {type: postgres, host: ..., password_env: PGPASSWORD, pool: {...}}}
//   source:    {type: jsonl, path: in.jsonl}
//   graph:     {workers: 2, batch_size: 64, entry: parse, dead_letter: dlq,
//               stages: {parse: {type: json_parse, routes: {default: enrich}}, ...}}
//   failures:  {seed: 42, rules: [...]}
//
// Every error names the place: "pipeline.yaml:14: graph.stages.enrich.query: ...". Errors found
// later, by stage or resource factories, carry only the dotted path; ConfigLines::locate() adds
// the file and line (the line of the longest path prefix that the file mentions).
//
// Values: `${NAME}` (upper case, digits, _) is replaced by the environment variable (an error if
// unset), `${NAME:-x}` falls back to x, `$${` is a literal "${". Other `${...}` (lower case, as
// in a stage's key template "user:${user_id}") are left for the stage. Secrets never appear in the
// file: a key named password, token or secret is rejected; use password_env / password_file (see
// secret.h). Options of stages, resources and the source are kept as an Event (StageOptions):
// scalars typed (a quoted scalar is always a string), lists and maps as raw JSON.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/stage_registry.h>

namespace scopeflow::service {

// Where each dotted path of a config file is.
class ConfigLines {
public:
    ConfigLines() = default;
    explicit ConfigLines(std::string file)
        : file_(std::move(file)) {}

    void note(const std::string& path, int line) { lines_.emplace(path, line); }
    // A stage's name, so that messages about it say "(stage 'name')".
    void note_stage(std::string name) { stages_.push_back(std::move(name)); }
    // The line of `path`, or of its longest prefix the file mentions; 0 if none.
    [[nodiscard]] int line_of(std::string_view path) const;
    // "file:line: path" (or "file: path" when no line is known); a path inside a stage ends
    // with " (stage 'name')".
    [[nodiscard]] std::string locate(std::string_view path) const;
    // A ConfigError with only a dotted path, as thrown by factories, located in the file.
    [[nodiscard]] ConfigError located(const ConfigError& e) const;
    [[nodiscard]] const std::string& file() const noexcept { return file_; }

private:
    [[nodiscard]] std::string_view stage_of(std::string_view path) const;

    std::string file_;
    std::map<std::string, int, std::less<>> lines_;
    std::vector<std::string> stages_;
};

// A named block with a type and free-form options (a resource, the source, a stage).
struct Block {
    std::string name;  // key in its section; "source" for the source
    std::string type;
    StageOptions options;  // everything but `type` (and a stage's `routes`)
    std::string path;      // "resources.orders_db", "graph.stages.enrich"
};

struct Route {
    std::string action;
    std::string to;
};

struct StageBlock : Block {
    std::vector<Route> routes;
};

struct ServiceSection {
    std::string admin = "127.0.0.1:9464";  // "off" disables the admin endpoint
    std::chrono::milliseconds shutdown_timeout{30'000};
    std::string log_format = "plain";                    // plain | json
    std::string log_level = "info";                      // trace | debug | info | warn | error
    std::chrono::milliseconds progress_interval{5'000};  // a progress line this often; 0: none
};

struct GraphSection {
    std::size_t workers = 2;
    std::size_t batch_size = 64;
    std::size_t max_hops = 16;
    std::string entry;        // default: the first stage
    std::string dead_letter;  // optional
    std::vector<StageBlock> stages;
};

// One fault-injection rule (see fault_injector.h), e.g.
//   {phase: use, point: "sql_lookup", probability: 0.01}  or  {point: "db.connect", nth: 3}
struct FailureRule {
    std::string phase = "use";  // acquire | use | release
    std::string point = "*";
    std::uint64_t nth = 0;
    double probability = 0.0;
    std::string path;
};

struct FailuresSection {
    std::uint64_t seed = 0;
    std::vector<FailureRule> rules;
};

struct ServiceConfig {
    ConfigLines lines;
    ServiceSection service;
    std::vector<Block> resources;
    Block source;
    GraphSection graph;
    FailuresSection failures;
};

// Limits on what a file may make the loader do, so that a broken or hostile file (nested
// aliases, "[[[[...") fails fast with an error naming the limit instead of exhausting memory.
// `check`, `run` and a SIGHUP reload all read files through parse_config.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;  // the file's size
inline constexpr std::size_t kMaxConfigDepth = 64;  // mappings and lists nested in each other
// Values, with aliases expanded (yaml-cpp takes about 0.5 KB and 8 us per value it builds).
inline constexpr std::size_t kMaxConfigNodes = 100'000;

// Parses YAML text; `file` names it in errors. Throws ConfigError("file:line: path", ...).
// Duplicate keys in any mapping are errors naming both lines.
[[nodiscard]] ServiceConfig parse_config(std::string_view yaml, const std::string& file);
// Reads and parses a file.
[[nodiscard]] ServiceConfig load_config(const std::filesystem::path& path);

// Replaces ${NAME} / ${NAME:-default} / $${ in one scalar. `where` names it in the error.
[[nodiscard]] std::string interpolate_env(std::string_view text, const std::string& where);

}  // namespace scopeflow::service
