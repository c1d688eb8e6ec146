#include "service/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <scopeflow/event/event_json.h>
#include <scopeflow/engine/units.h>

namespace scopeflow::service {

int ConfigLines::line_of(std::string_view path) const {
    std::string_view p = path;
    while (true) {
        if (auto it = lines_.find(p); it != lines_.end()) {
            return it->second;
        }
        const auto dot = p.rfind('.');
        if (dot == std::string_view::npos) {
            return 0;
        }
        p = p.substr(0, dot);
    }
}

std::string_view ConfigLines::stage_of(std::string_view path) const {
    static constexpr std::string_view kStages = "graph.stages.";
    if (!path.starts_with(kStages)) {
        return {};
    }
    const std::string_view rest = path.substr(kStages.size());
    std::string_view best;
    for (const std::string& name : stages_) {  // the longest name: stage names may hold dots
        if (rest.starts_with(name) && (rest.size() == name.size() || rest[name.size()] == '.') &&
            name.size() > best.size()) {
            best = name;
        }
    }
    return best.empty() ? rest.substr(0, rest.find('.')) : best;
}

std::string ConfigLines::locate(std::string_view path) const {
    const int line = line_of(path);
    std::string out = file_;
    if (line > 0) {
        out += ":" + std::to_string(line);
    }
    if (!path.empty()) {
        out += ": ";
        out += path;
        if (const std::string_view stage = stage_of(path); !stage.empty()) {
            out += " (stage '";
            out += stage;
            out += "')";
        }
    }
    return out;
}

ConfigError ConfigLines::located(const ConfigError& e) const {
    return {locate(e.where()), e.text()};  // the file and line in front of where
}

std::string interpolate_env(std::string_view text, const std::string& where) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            out += text[i++];
            continue;
        }
        const auto close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            throw ConfigError(where, "unterminated ${ in '" + std::string(text) + "'");
        }
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::optional<std::string_view> fallback;
        if (const auto d = inner.find(":-"); d != std::string_view::npos) {
            fallback = inner.substr(d + 2);
            inner = inner.substr(0, d);
        }
        // Environment variables are upper case; anything else (${user_id}) is a stage's own
        // field template and stays as written.
        const bool env_name =
            !inner.empty() && !(inner.front() >= '0' && inner.front() <= '9') &&
            std::all_of(inner.begin(), inner.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            });
        if (!env_name) {
            out.append(text.substr(i, close + 1 - i));
            i = close + 1;
            continue;
        }
        const std::string name(inner);
        const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
        if (value != nullptr) {
            out += value;
        } else if (fallback) {
            out += *fallback;
        } else {
            throw ConfigError(where, "environment variable " + name + " is not set (write ${" +
                                         name + ":-default} for a default)");
        }
        i = close + 1;
    }
    return out;
}

namespace {

// Keys that would put a secret into the file.
bool secret_key(std::string_view key) {
    return key == "password" || key == "token" || key == "secret" || key == "api_key" ||
           key == "bearer_token";
}

std::string json_quote(std::string_view s) {
    std::string out;
    append_json(Value(s), out);
    return out;
}

// "file:line", or "file" when yaml-cpp gave no position (line 0).
std::string at_line(const std::string& file, std::size_t line) {
    return line == 0 ? file : file + ":" + std::to_string(line);
}

// Bounds the nesting and the number of values of `text` before yaml-cpp sees it: yaml-cpp
// recurses once per level while it parses (and takes seconds and gigabytes on megabytes of "["),
// and builds every value in memory, so both are estimated first, on the text. The depth counts
// open flow brackets, block indentation levels and compact "- " entries; it never under-counts
// flow nesting, the kind a short file can make deep. Values are counted as lines, flow items and
// flow keys (over-counted rather than under). Both are checked exactly on the parsed tree
// (Inspector).
void prescan(std::string_view text, const std::string& file) {
    std::size_t values = 0;
    const auto count_value = [&](std::size_t line_no) {
        if (++values > kMaxConfigNodes) {
            throw ConfigError(at_line(file, line_no), "the file holds more than " +
                                                          std::to_string(kMaxConfigNodes) +
                                                          " values, the limit for a pipeline file");
        }
    };
    std::vector<std::size_t> indents;         // indentation of the open block levels
    std::size_t flow = 0;                     // open [ and {
    char quote = 0;                           // inside '...' or "..." (may span lines)
    std::optional<std::size_t> block_scalar;  // indentation of the line that opened | or >
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        std::size_t indent = 0;
        while (indent < line.size() && line[indent] == ' ') {
            ++indent;
        }
        const bool blank = indent == line.size();
        if (block_scalar) {
            if (blank || indent > *block_scalar) {
                continue;  // text of a literal or folded scalar
            }
            block_scalar.reset();
        }
        std::size_t i = indent;
        std::size_t compact = 0;
        if (quote == 0 && flow == 0) {
            if (blank || line[indent] == '#') {
                continue;
            }
            count_value(line_no);
            while (!indents.empty() && indents.back() >= indent) {
                indents.pop_back();
            }
            indents.push_back(indent);
            // "- - - x" and "? ..." open one level each on a single line.
            while (i + 1 < line.size() && (line[i] == '-' || line[i] == '?') &&
                   line[i + 1] == ' ') {
                ++compact;
                i += 2;
                while (i < line.size() && line[i] == ' ') {
                    ++i;
                }
            }
        }
        char prev = ' ';  // the last non-space character before i on this line
        bool token_start = true;
        for (; i < line.size(); ++i) {
            const char c = line[i];
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    ++i;
                } else if (c == quote) {
                    quote = 0;
                }
                prev = c;
                continue;
            }
            if (c == ' ' || c == '\t') {
                token_start = true;
                continue;
            }
            if (c == '#' && token_start) {
                break;  // a comment
            }
            const bool starts_node = flow > 0 || prev == ' ' || prev == ':' || prev == '-' ||
                                     prev == ',' || prev == '[' || prev == '{';
            if ((c == '\'' || c == '"') && token_start && starts_node) {
                quote = c;
            } else if ((c == '[' || c == '{') && (flow > 0 || (token_start && starts_node))) {
                ++flow;
                count_value(line_no);
            } else if ((c == ',' || c == ':') && flow > 0) {
                count_value(line_no);
            } else if ((c == ']' || c == '}') && flow > 0) {
                --flow;
            } else if ((c == '|' || c == '>') && flow == 0 && token_start &&
                       (prev == ':' || prev == '-' || prev == ' ')) {
                std::size_t j = i + 1;
                while (j < line.size() &&
                       (line[j] == '+' || line[j] == '-' || (line[j] >= '0' && line[j] <= '9'))) {
                    ++j;
                }
                while (j < line.size() && line[j] == ' ') {
                    ++j;
                }
                if (j == line.size() || line[j] == '#') {
                    block_scalar = indent;
                    break;
                }
            }
            token_start = c == ',' || c == '[' || c == '{';
            prev = c;
            if (indents.size() + compact + flow > kMaxConfigDepth) {
                throw ConfigError(at_line(file, line_no),
                                  "nested deeper than " + std::to_string(kMaxConfigDepth) +
                                      " levels (the limit for a pipeline file)");
            }
        }
        if (indents.size() + compact + flow > kMaxConfigDepth) {
            throw ConfigError(at_line(file, line_no),
                              "nested deeper than " + std::to_string(kMaxConfigDepth) +
                                  " levels (the limit for a pipeline file)");
        }
    }
}

// One pass over the parsed tree before it is read: counts values with aliases expanded (an alias
// is a reference in yaml-cpp's tree, so nested aliases cost nothing to parse but expand
// exponentially when read), bounds the nesting, and rejects duplicate keys, which yaml-cpp keeps
// (a lookup would silently take the first).
class Inspector {
public:
    explicit Inspector(const std::string& file)
        : file_(file) {}

    void visit(const YAML::Node& n, const std::string& path, std::size_t depth) {
        const auto line = static_cast<std::size_t>(n.Mark().line) + 1;
        if (++nodes_ > kMaxConfigNodes) {
            throw ConfigError(at_line(file_, line),
                              "the file expands to more than " + std::to_string(kMaxConfigNodes) +
                                  " values (an alias counts its values at each use), the limit "
                                  "for a pipeline file");
        }
        if (depth > kMaxConfigDepth) {
            throw ConfigError(at_line(file_, line) + (path.empty() ? "" : ": " + path),
                              "nested deeper than " + std::to_string(kMaxConfigDepth) +
                                  " levels (the limit for a pipeline file)");
        }
        if (n.IsSequence()) {
            std::size_t i = 0;
            for (const auto& item : n) {
                visit(item, child(path, std::to_string(i++)), depth + 1);
            }
        } else if (n.IsMap()) {
            std::map<std::string, std::size_t, std::less<>> seen;  // key -> line
            for (const auto& kv : n) {
                const auto key_line = static_cast<std::size_t>(kv.first.Mark().line) + 1;
                if (kv.first.IsScalar()) {
                    const std::string& key = kv.first.Scalar();
                    const auto [it, fresh] = seen.emplace(key, key_line);
                    if (!fresh) {
                        throw ConfigError(at_line(file_, key_line) + ": " + child(path, key),
                                          "duplicate key '" + key + "' (first at line " +
                                              std::to_string(it->second) + ")");
                    }
                    visit(kv.second, child(path, key), depth + 1);
                } else {
                    visit(kv.first, path, depth + 1);
                    visit(kv.second, path, depth + 1);
                }
            }
        }
    }

private:
    static std::string child(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    const std::string& file_;
    std::size_t nodes_ = 0;
};

class Parser {
public:
    explicit Parser(const std::string& file)
        : lines_(file) {}

    ServiceConfig parse(std::string_view text) {
        if (text.size() > kMaxConfigBytes) {
            throw ConfigError(lines_.file(), "the file is " + std::to_string(text.size()) +
                                                 " bytes, more than the limit of " +
                                                 std::to_string(kMaxConfigBytes) + " bytes");
        }
        prescan(text, lines_.file());
        YAML::Node root;
        try {
            root = YAML::Load(std::string(text));
        } catch (const YAML::Exception& e) {
            throw ConfigError(lines_.file() + ":" + std::to_string(e.mark.line + 1),
                              "invalid YAML: " + e.msg);
        }
        Inspector(lines_.file()).visit(root, "", 0);
        ServiceConfig cfg;
        if (!root.IsMap()) {
            throw ConfigError(lines_.file(),
                              "the file must be a YAML mapping with the sections "
                              "service, resources, source, graph, failures");
        }
        check_keys(root, "", {"service", "resources", "source", "graph", "failures"});
        if (!root["source"]) {
            throw err("source", "a source is required (type: jsonl, stdin, http or generator)");
        }
        if (!root["graph"]) {
            throw err("graph", "a graph with at least one stage is required");
        }
        if (auto n = root["service"]) {
            read_service(n, cfg.service);
        }
        if (auto n = root["resources"]) {
            expect_map(n, "resources");
            for (const auto& kv : n) {
                const std::string name = key_of(kv, "resources");
                cfg.resources.push_back(read_block(kv.second, name, "resources." + name, {}));
            }
        }
        cfg.source = read_block(root["source"], "source", "source", {});
        read_graph(root["graph"], cfg.graph);
        if (auto n = root["failures"]) {
            read_failures(n, cfg.failures);
        }
        cfg.lines = std::move(lines_);
        return cfg;
    }

private:
    ConfigError err(const std::string& path, const std::string& message) const {
        return {lines_.locate(path), message};
    }

    void note(const std::string& path, const YAML::Node& n) {
        lines_.note(path, n.Mark().line + 1);
    }

    std::string key_of(const std::pair<YAML::Node, YAML::Node>& kv, const std::string& parent) {
        if (!kv.first.IsScalar()) {
            throw err(parent, "keys must be plain names");
        }
        const std::string key = kv.first.Scalar();
        const std::string path = parent.empty() ? key : parent + "." + key;
        lines_.note(path, kv.first.Mark().line + 1);
        return key;
    }

    void expect_map(const YAML::Node& n, const std::string& path) {
        note(path, n);
        if (!n.IsMap()) {
            throw err(path, "expected a mapping (key: value lines)");
        }
    }

    void check_keys(const YAML::Node& n,
                    const std::string& path,
                    std::initializer_list<std::string_view> known) {
        StageOptions keys;
        for (const auto& kv : n) {
            keys.set(key_of(kv, path), Value());
        }
        try {
            reject_unknown_fields(keys, known, path);
        } catch (const ConfigError& e) {
            if (path.empty() && e.where().starts_with('.')) {  // a top-level key
                throw lines_.located(ConfigError(e.where().substr(1), e.text()));
            }
            throw lines_.located(e);
        }
    }

    std::string scalar(const YAML::Node& n, const std::string& path) {
        note(path, n);
        if (!n.IsScalar()) {
            throw err(path, "expected a single value");
        }
        return interpolate_env(n.Scalar(), lines_.locate(path));
    }

    std::uint64_t count(const YAML::Node& n, const std::string& path, std::uint64_t min) {
        const std::string s = scalar(n, path);
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || v < min) {
            throw err(path,
                      "expected a whole number >= " + std::to_string(min) + ", got '" + s + "'");
        }
        return v;
    }

    std::chrono::milliseconds duration(const YAML::Node& n, const std::string& path) {
        const std::string s = scalar(n, path);
        auto d = parse_duration(s);
        if (!d) {
            throw err(path, "expected a duration such as 500ms, 30s, 5m, got '" + s + "'");
        }
        return *d;
    }

    std::string one_of(const YAML::Node& n,
                       const std::string& path,
                       std::initializer_list<std::string_view> allowed) {
        std::string s = scalar(n, path);
        if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
            std::string list;
            for (auto a : allowed) {
                list += (list.empty() ? "" : ", ") + std::string(a);
            }
            throw err(path, "'" + s + "' is not one of: " + list);
        }
        return s;
    }

    // A YAML node as an option value: typed scalars, raw JSON for lists and maps.
    Value value(const YAML::Node& n, const std::string& path) {
        note(path, n);
        if (n.IsNull()) {
            return Value();
        }
        if (n.IsScalar()) {
            std::string s = interpolate_env(n.Scalar(), lines_.locate(path));
            if (n.Tag() == "!") {  // quoted: always a string
                return Value(std::move(s));
            }
            if (s == "true") {
                return Value(true);
            }
            if (s == "false") {
                return Value(false);
            }
            std::int64_t i = 0;
            if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
                ec == std::errc() && end == s.data() + s.size()) {
                return Value(i);
            }
            double d = 0;
            if (auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
                ec == std::errc() && end == s.data() + s.size()) {
                return Value(d);
            }
            return Value(std::move(s));
        }
        return Value::raw(json(n, path));
    }

    std::string json(const YAML::Node& n, const std::string& path) {
        note(path, n);
        if (n.IsSequence()) {
            std::string out = "[";
            std::size_t i = 0;
            for (const auto& item : n) {
                out += (i == 0 ? "" : ",") + json(item, path + "." + std::to_string(i));
                ++i;
            }
            return out + "]";
        }
        if (n.IsMap()) {
            std::string out = "{";
            bool first = true;
            for (const auto& kv : n) {
                const std::string key = key_of(kv, path);
                if (secret_key(key)) {
                    throw secret_error(path + "." + key);
                }
                out +=
                    (first ? "" : ",") + json_quote(key) + ":" + json(kv.second, path + "." + key);
                first = false;
            }
            return out + "}";
        }
        std::string raw;
        append_json(value(n, path), raw);
        return raw;
    }

    ConfigError secret_error(const std::string& path) const {
        return err(path, "secrets are never written in the config file: use " +
                             path.substr(path.rfind('.') + 1) + "_env: VARIABLE or " +
                             path.substr(path.rfind('.') + 1) + "_file: /path/to/file");
    }

    Block read_block(const YAML::Node& n,
                     const std::string& name,
                     const std::string& path,
                     std::initializer_list<std::string_view> skip) {
        expect_map(n, path);
        Block b{.name = name, .type = {}, .options = {}, .path = path};
        for (const auto& kv : n) {
            const std::string key = key_of(kv, path);
            const std::string kpath = path + "." + key;
            if (key == "type") {
                b.type = scalar(kv.second, kpath);
            } else if (std::find(skip.begin(), skip.end(), key) != skip.end()) {
                continue;
            } else if (secret_key(key)) {
                throw secret_error(kpath);
            } else {
                b.options.set(key, value(kv.second, kpath));
            }
        }
        if (b.type.empty()) {
            throw err(path, "'type' is required");
        }
        return b;
    }

    void read_service(const YAML::Node& n, ServiceSection& s) {
        expect_map(n, "service");
        check_keys(n, "service",
                   {"admin", "shutdown_timeout", "log_format", "log_level", "progress_interval"});
        if (auto v = n["admin"]) {
            s.admin = scalar(v, "service.admin");
        }
        if (auto v = n["shutdown_timeout"]) {
            s.shutdown_timeout = duration(v, "service.shutdown_timeout");
        }
        if (auto v = n["log_format"]) {
            s.log_format = one_of(v, "service.log_format", {"plain", "json"});
        }
        if (auto v = n["log_level"]) {
            s.log_level =
                one_of(v, "service.log_level", {"trace", "debug", "info", "warn", "error"});
        }
        if (auto v = n["progress_interval"]) {
            s.progress_interval = duration(v, "service.progress_interval");
        }
    }

    void read_graph(const YAML::Node& n, GraphSection& g) {
        expect_map(n, "graph");
        check_keys(n, "graph",
                   {"workers", "batch_size", "max_hops", "entry", "dead_letter", "stages"});
        if (auto v = n["workers"]) {
            g.workers = static_cast<std::size_t>(count(v, "graph.workers", 1));
        }
        if (auto v = n["batch_size"]) {
            g.batch_size = static_cast<std::size_t>(count(v, "graph.batch_size", 1));
        }
        if (auto v = n["max_hops"]) {
            g.max_hops = static_cast<std::size_t>(count(v, "graph.max_hops", 1));
        }
        if (auto v = n["entry"]) {
            g.entry = scalar(v, "graph.entry");
        }
        if (auto v = n["dead_letter"]) {
            g.dead_letter = scalar(v, "graph.dead_letter");
        }
        const YAML::Node stages = n["stages"];
        if (!stages || stages.IsNull() || stages.size() == 0) {
            throw err("graph.stages", "the graph needs at least one stage");
        }
        expect_map(stages, "graph.stages");
        for (const auto& kv : stages) {
            const std::string name = key_of(kv, "graph.stages");
            const std::string path = "graph.stages." + name;
            lines_.note_stage(name);
            StageBlock s;
            static_cast<Block&>(s) = read_block(kv.second, name, path, {"routes"});
            if (auto r = kv.second["routes"]) {
                expect_map(r, path + ".routes");
                for (const auto& route : r) {
                    const std::string action = key_of(route, path + ".routes");
                    const std::string rpath = path + ".routes." + action;
                    if (route.second.IsSequence()) {
                        for (const auto& to : route.second) {
                            s.routes.push_back({action, scalar(to, rpath)});
                        }
                    } else {
                        s.routes.push_back({action, scalar(route.second, rpath)});
                    }
                }
            }
            g.stages.push_back(std::move(s));
        }
    }

    void read_failures(const YAML::Node& n, FailuresSection& f) {
        expect_map(n, "failures");
        check_keys(n, "failures", {"seed", "rules"});
        if (auto v = n["seed"]) {
            f.seed = count(v, "failures.seed", 0);
        }
        if (auto rules = n["rules"]) {
            note("failures.rules", rules);
            if (!rules.IsSequence()) {
                throw err("failures.rules", "expected a list of rules");
            }
            std::size_t i = 0;
            for (const auto& r : rules) {
                const std::string path = "failures.rules." + std::to_string(i++);
                expect_map(r, path);
                check_keys(r, path, {"phase", "point", "nth", "probability"});
                FailureRule rule;
                rule.path = path;
                if (auto v = r["phase"]) {
                    rule.phase = one_of(v, path + ".phase", {"acquire", "use", "release"});
                }
                if (auto v = r["point"]) {
                    rule.point = scalar(v, path + ".point");
                }
                if (auto v = r["nth"]) {
                    rule.nth = count(v, path + ".nth", 1);
                }
                if (auto v = r["probability"]) {
                    const std::string s = scalar(v, path + ".probability");
                    double p = -1;
                    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), p);
                    if (ec != std::errc() || end != s.data() + s.size() || p < 0 || p > 1) {
                        throw err(path + ".probability",
                                  "expected a probability between 0 and 1, got '" + s + "'");
                    }
                    rule.probability = p;
                }
                if (rule.nth == 0 && rule.probability == 0) {
                    throw err(path, "a rule needs nth (fire on the nth hit) or probability");
                }
                f.rules.push_back(std::move(rule));
            }
        }
    }

    ConfigLines lines_;
};

}  // namespace

ServiceConfig parse_config(std::string_view yaml, const std::string& file) {
    return Parser(file).parse(yaml);
}

ServiceConfig load_config(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(path.string(), "cannot read the config file");
    }
    // Read at most one byte past the limit: parse_config rejects it without a huge read.
    std::string text(kMaxConfigBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
        throw ConfigError(path.string(), "cannot read the config file");
    }
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) {
        throw ConfigError(path.string(), "the file is larger than the limit of " +
                                             std::to_string(kMaxConfigBytes) + " bytes");
    }
    return parse_config(text, path.string());
}

}  // namespace scopeflow::service
