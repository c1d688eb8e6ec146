#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include <simdjson.h>

#include <scopeflow/core/error.h>
#include <scopeflow/event/event_json.h>
#include <scopeflow/engine/stage_registry.h>
#include <scopeflow/stages/aggregate_stages.h>
#include <scopeflow/stages/fields_stage.h>
#include <scopeflow/stages/file_processor_stage.h>
#include <scopeflow/stages/file_sink_stage.h>
#include <scopeflow/stages/filter_stage.h>
#include <scopeflow/stages/json_stages.h>
#include <scopeflow/stages/log_stage.h>
#include <scopeflow/stages/notify_stage.h>
#include <scopeflow/stages/process_stage.h>
#include <scopeflow/engine/units.h>

namespace scopeflow {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0U : 1U)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

template <typename Names>
std::string suggestion(std::string_view wrong, const Names& names) {
    std::string best;
    std::size_t best_d = 3;  // only suggest close names
    for (const auto& n : names) {
        const std::size_t d = edit_distance(wrong, n);
        if (d < best_d) {
            best_d = d;
            best = std::string(n);
        }
    }
    return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

std::string field_where(const std::string& where, std::string_view field) {
    return where + "." + std::string(field);
}

// "a, b,c" -> {a, b, c}: comma-separated, trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const std::size_t comma = s.find(',');
        std::string_view item = s.substr(0, comma);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            out.emplace_back(item);
        }
        s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    }
    return out;
}

// "cat -u" -> {cat, -u}: split at spaces, for suggesting the list form of a string.
std::vector<std::string> split_words(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const std::size_t space = s.find(' ');
        if (space != 0) {
            out.emplace_back(s.substr(0, space));
        }
        s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
    }
    return out;
}

// A value as it reads in an error message: "'16 parsecs'", "a list", "true".
std::string shown(const Value& v) {
    switch (v.kind()) {
        case ValueKind::string:
            return "'" + std::string(v.as_string()) + "'";
        case ValueKind::raw:
            return v.raw_json().starts_with('[') ? "a list" : "a mapping";
        default: {
            std::string out;
            append_json(v, out);
            return out;
        }
    }
}

// The items of a raw JSON array of strings; nullopt when `v` is not an array. An array holding
// something else than strings is an error.
std::optional<std::vector<std::string>> json_string_list(const Value& v,
                                                         std::string_view field,
                                                         const std::string& where) {
    if (v.kind() != ValueKind::raw) {
        return std::nullopt;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    const std::string text(v.raw_json());
    if (parser.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_array()) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (simdjson::dom::element item : doc.get_array()) {
        std::string_view sv;
        if (item.get_string().get(sv) != simdjson::SUCCESS) {
            throw ConfigError(field_where(where, field), "expected a list of strings");
        }
        out.emplace_back(sv);
    }
    return out;
}

}  // namespace

void StageRegistry::add(StageTypeInfo info, Factory factory) {
    if (entries_.contains(info.type)) {
        throw ConfigError("stage type '" + info.type + "'", "registered twice (" +
                                                                entries_.at(info.type).info.origin +
                                                                " and " + info.origin + ")");
    }
    std::string type = info.type;
    entries_.emplace(std::move(type), Entry{std::move(info), std::move(factory)});
}

std::unique_ptr<Stage> StageRegistry::create(std::string_view type,
                                             const StageOptions& options,
                                             const std::string& where) const {
    const auto it = entries_.find(type);
    if (it == entries_.end()) {
        std::vector<std::string_view> names;
        for (const auto& [name, entry] : entries_) {
            names.push_back(name);
        }
        throw ConfigError(where + ".type", "unknown stage type '" + std::string(type) + "'" +
                                               suggestion(type, names) +
                                               "; `scopeflow stages` lists them");
    }
    return it->second.factory(options, where);
}

bool StageRegistry::contains(std::string_view type) const {
    return entries_.find(type) != entries_.end();
}

std::vector<StageTypeInfo> StageRegistry::list() const {
    std::vector<StageTypeInfo> out;
    for (const auto& [name, entry] : entries_) {
        out.push_back(entry.info);
    }
    return out;
}

std::string require_string(const StageOptions& o,
                           std::string_view field,
                           const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr) {
        throw ConfigError(field_where(where, field), "is required");
    }
    if (v->kind() != ValueKind::string) {
        throw ConfigError(field_where(where, field), "must be a string");
    }
    return std::string(v->as_string());
}

std::string optional_string(const StageOptions& o,
                            std::string_view field,
                            std::string fallback,
                            const std::string& where) {
    return o.find(field) == nullptr ? fallback : require_string(o, field, where);
}

std::int64_t optional_int(const StageOptions& o,
                          std::string_view field,
                          std::int64_t fallback,
                          const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr) {
        return fallback;
    }
    if (v->kind() != ValueKind::integer) {
        throw ConfigError(field_where(where, field), "must be an integer");
    }
    return v->as_int();
}

std::chrono::milliseconds optional_duration(const StageOptions& o,
                                            std::string_view field,
                                            std::chrono::milliseconds fallback,
                                            const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr || v->is_null()) {
        return fallback;
    }
    if (v->kind() == ValueKind::integer && v->as_int() >= 0) {
        return std::chrono::milliseconds(v->as_int());
    }
    if (v->kind() == ValueKind::number && std::isfinite(v->as_double()) && v->as_double() >= 0 &&
        v->as_double() <= 1e15) {
        return std::chrono::milliseconds(static_cast<std::int64_t>(v->as_double()));
    }
    if (v->kind() == ValueKind::string) {
        if (auto d = parse_duration(v->as_string())) {
            return *d;
        }
    }
    throw ConfigError(field_where(where, field),
                      "expected " + std::string(kDurationHint) + ", got " + shown(*v));
}

std::uint64_t optional_bytes(const StageOptions& o,
                             std::string_view field,
                             std::uint64_t fallback,
                             const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr || v->is_null()) {
        return fallback;
    }
    if (v->kind() == ValueKind::integer && v->as_int() >= 0) {
        return static_cast<std::uint64_t>(v->as_int());
    }
    if (v->kind() == ValueKind::string) {
        if (auto n = parse_bytes(v->as_string())) {
            return *n;
        }
    }
    throw ConfigError(field_where(where, field),
                      "expected " + std::string(kSizeHint) + ", got " + shown(*v));
}

std::vector<std::string> optional_string_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (v->kind() == ValueKind::string) {
        return split_list(v->as_string());
    }
    if (auto list = json_string_list(*v, field, where)) {
        return std::move(*list);
    }
    throw ConfigError(field_where(where, field),
                      "expected a list of strings (or one comma-separated string)");
}

std::vector<std::string> optional_strict_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (auto list = json_string_list(*v, field, where)) {
        return std::move(*list);
    }
    std::string example;
    if (v->kind() == ValueKind::string) {
        for (const auto& word : split_words(v->as_string())) {
            example += (example.empty() ? "" : ", ") + word;
        }
    }
    throw ConfigError(field_where(where, field),
                      "expected a list, not " + shown(*v) + ": write " + std::string(field) +
                          ": [" + (example.empty() ? "item, ..." : example) + "]");
}

void reject_unknown_fields(const StageOptions& o,
                           std::initializer_list<std::string_view> known,
                           const std::string& where) {
    for (const auto& field : o) {
        if (std::find(known.begin(), known.end(), field.key) == known.end()) {
            throw ConfigError(field_where(where, field.key),
                              "unknown option '" + field.key + "'" + suggestion(field.key, known));
        }
    }
}

namespace {

CompareOp parse_op(const std::string& op, const std::string& where) {
    static const std::pair<std::string_view, CompareOp> kOps[] = {
        {"eq", CompareOp::eq},         {"ne", CompareOp::ne},          {"lt", CompareOp::lt},
        {"le", CompareOp::le},         {"gt", CompareOp::gt},          {"ge", CompareOp::ge},
        {"exists", CompareOp::exists}, {"missing", CompareOp::missing}};
    for (const auto& [name, value] : kOps) {
        if (name == op) {
            return value;
        }
    }
    throw ConfigError(where + ".op", "unknown comparison '" + op +
                                         "' (one of eq, ne, lt, le, gt, ge, exists, missing)");
}

FsyncPolicy parse_fsync(const std::string& s, const std::string& where) {
    if (s == "never") {
        return FsyncPolicy::never;
    }
    if (s == "on_rotate") {
        return FsyncPolicy::on_rotate;
    }
    if (s == "always") {
        return FsyncPolicy::always;
    }
    throw ConfigError(where + ".fsync",
                      "unknown fsync policy '" + s + "' (one of never, on_rotate, always)");
}

// An option holding a JSON object (a raw value), decoded into an Event.
Event object_option(const StageOptions& o, std::string_view field, const std::string& where) {
    Event out;
    const Value* v = o.find(field);
    if (v == nullptr) {
        return out;
    }
    EventParser parser;
    if (v->kind() != ValueKind::raw || !parser.parse(v->raw_json(), out)) {
        throw ConfigError(where + "." + std::string(field), "must be an object");
    }
    return out;
}

}  // namespace

void register_builtin_stages(StageRegistry& registry) {
    registry.add({.type = "counter",
                  .description = "counts events per key and writes the running count",
                  .options = "key_field: count per value of this field\n"
                             "count_field: where the count goes (default count)",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"key_field", "count_field"}, where);
                     return std::make_unique<CounterStage>(CounterOptions{
                         .key_field = optional_string(o, "key_field", "", where),
                         .count_field = optional_string(o, "count_field", "count", where)});
                 });
    registry.add(
        {.type = "tumbling_window",
         .description = "per-key aggregates over fixed event-time windows "
                        "(emitted through the \"window\" action)",
         .options = "time_field: integer epoch milliseconds (required)\n"
                    "size_ms: window length, a duration (default 1m)\n"
                    "key_field: group by this field\n"
                    "sum_field: also sum this numeric field",
         .origin = "builtin"},
        [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
            reject_unknown_fields(o, {"time_field", "size_ms", "key_field", "sum_field"}, where);
            const auto size = optional_duration(o, "size_ms", std::chrono::minutes(1), where);
            if (size.count() <= 0) {
                throw ConfigError(where + ".size_ms", "must be positive");
            }
            return std::make_unique<TumblingWindowStage>(
                TumblingWindowOptions{.time_field = require_string(o, "time_field", where),
                                      .size = size,
                                      .key_field = optional_string(o, "key_field", "", where),
                                      .sum_field = optional_string(o, "sum_field", "", where)});
        });
    registry.add({.type = "fields",
                  .description = "sets, renames and drops fields (in that order)",
                  .options = "set: object of field -> value\n"
                             "rename: object of old name -> new name\n"
                             "drop: field names (a list, or comma-separated)",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"set", "rename", "drop"}, where);
                     FieldsOptions f;
                     for (const auto& field : object_option(o, "set", where)) {
                         f.operations.push_back(FieldOp::set(field.key, field.value));
                     }
                     for (const auto& field : object_option(o, "rename", where)) {
                         if (field.value.kind() != ValueKind::string) {
                             throw ConfigError(where + ".rename." + field.key,
                                               "the new name must be a string");
                         }
                         f.operations.push_back(
                             FieldOp::rename(field.key, std::string(field.value.as_string())));
                     }
                     for (auto& name : optional_string_list(o, "drop", where)) {
                         f.operations.push_back(FieldOp::drop(std::move(name)));
                     }
                     return std::make_unique<FieldsStage>(std::move(f));
                 });
    registry.add({.type = "json_parse",
                  .description = "decodes a string field holding a JSON object into the event",
                  .options = "field: the string field (required)\n"
                             "keep_source: keep the field after decoding (default false)",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"field", "keep_source"}, where);
                     const Value* keep = o.find("keep_source");
                     if (keep != nullptr && keep->kind() != ValueKind::boolean) {
                         throw ConfigError(where + ".keep_source", "must be true or false");
                     }
                     return std::make_unique<JsonParseStage>(
                         JsonParseOptions{.field = require_string(o, "field", where),
                                          .keep_source = keep != nullptr && keep->as_bool()});
                 });
    registry.add({.type = "json_serialize",
                  .description = "encodes the whole event as JSON into a string field",
                  .options = "field: where the JSON goes (required)",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"field"}, where);
                     return std::make_unique<JsonSerializeStage>(
                         JsonSerializeOptions{.field = require_string(o, "field", where)});
                 });
    registry.add({.type = "log",
                  .description = "prints events as JSON lines (stderr by default)",
                  .options = "prefix: text before each event\n"
                             "every: log one event in this many (default 1)\n"
                             "stream: stderr or stdout (default stderr)",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"prefix", "every", "stream"}, where);
                     const std::int64_t every = optional_int(o, "every", 1, where);
                     if (every < 1) {
                         throw ConfigError(where + ".every", "must be at least 1");
                     }
                     const std::string stream = optional_string(o, "stream", "stderr", where);
                     if (stream != "stderr" && stream != "stdout") {
                         throw ConfigError(where + ".stream", "must be stderr or stdout");
                     }
                     return std::make_unique<LogStage>(
                         LogOptions{.prefix = optional_string(o, "prefix", "", where),
                                    .every = static_cast<std::uint64_t>(every),
                                    .to_stdout = stream == "stdout"});
                 });
    registry.add({.type = "filter",
                  .description = "keeps events whose field satisfies a comparison; drops the rest",
                  .options = "field: the field to test (required)\n"
                             "op: eq, ne, lt, le, gt, ge, exists, missing (default eq)\n"
                             "value: what to compare with",
                  .origin = "builtin"},
                 [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
                     reject_unknown_fields(o, {"field", "op", "value"}, where);
                     FilterOptions f;
                     f.field = require_string(o, "field", where);
                     f.op = parse_op(optional_string(o, "op", "eq", where), where);
                     if (const Value* v = o.find("value")) {
                         f.value = *v;
                     } else if (f.op != CompareOp::exists && f.op != CompareOp::missing) {
                         throw ConfigError(
                             where + ".value",
                             "is required for op '" + optional_string(o, "op", "eq", where) + "'");
                     }
                     return std::make_unique<FilterStage>(std::move(f));
                 });
    registry.add(
        {.type = "file_sink",
         .description = "writes events as JSON lines into rotating, atomically published files",
         .options = "directory: where parts are written, created if missing (default .)\n"
                    "prefix: part name prefix (default events)\n"
                    "max_bytes: rotate at this size (default 64MiB)\n"
                    "fsync: never, on_rotate, always (default on_rotate)",
         .origin = "builtin"},
        [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
            reject_unknown_fields(o, {"directory", "prefix", "max_bytes", "fsync"}, where);
            const std::uint64_t max_bytes = optional_bytes(o, "max_bytes", 64ULL << 20, where);
            if (max_bytes == 0) {
                throw ConfigError(where + ".max_bytes", "must be positive");
            }
            return std::make_unique<FileSinkStage>(FileSinkOptions{
                .directory = optional_string(o, "directory", ".", where),
                .prefix = optional_string(o, "prefix", "events", where),
                .max_bytes = max_bytes,
                .fsync = parse_fsync(optional_string(o, "fsync", "on_rotate", where), where)});
        });
    registry.add(
        {.type = "file_processor",
         .description =
             "writes each event to a temp file and publishes it as <directory>/<key>.json "
             "(temp files removed on every failure)",
         .options = "directory: where files are published (required, must exist)\n"
                    "temp_directory: where they are written first (default: directory)\n"
                    "key_field: names the file (default id)\n"
                    "fsync: fsync each file before publishing (default false)",
         .origin = "builtin"},
        [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
            reject_unknown_fields(o, {"directory", "temp_directory", "key_field", "fsync"}, where);
            FileProcessorOptions f;
            f.directory = require_string(o, "directory", where);
            f.temp_directory = optional_string(o, "temp_directory", "", where);
            f.key_field = optional_string(o, "key_field", "id", where);
            if (const Value* v = o.find("fsync"); v != nullptr) {
                if (v->kind() != ValueKind::boolean) {
                    throw ConfigError(where + ".fsync", "must be true or false");
                }
                f.fsync = v->as_bool();
            }
            try {
                return std::make_unique<FileProcessorStage>(std::move(f));
            } catch (const ConfigError& e) {
                const std::string field = e.where().substr(e.where().find('.') + 1);
                throw ConfigError(where + "." + field, e.text());
            }
        });
    registry.add(
        {.type = "notify",
         .description = "appends a notification line per event to a log (one file per worker)",
         .options = "path: the log; worker N writes <path>.wN (required)\n"
                    "key_field: names the event (default id)\n"
                    "fields: other fields to show (list)",
         .origin = "builtin"},
        [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
            reject_unknown_fields(o, {"path", "key_field", "fields"}, where);
            return std::make_unique<NotifyStage>(
                NotifyOptions{.path = require_string(o, "path", where),
                              .key_field = optional_string(o, "key_field", "id", where),
                              .fields = optional_string_list(o, "fields", where)});
        });
    registry.add(
        {.type = "process",
         .description = "runs each event through an external program (one JSON line in, one "
                        "out), one child per worker",
         .options = "command: the program and its arguments, a list (required; no shell)\n"
                    "env: its environment, a list: NAME=value sets one, NAME passes the "
                    "service's own on (default: only PATH, LANG, LC_ALL, TZ)\n"
                    "timeout_ms: per event, a duration (default 5s)\n"
                    "terminate_grace_ms: SIGTERM, then SIGKILL after this (default 2s)",
         .origin = "builtin"},
        [](const StageOptions& o, const std::string& where) -> std::unique_ptr<Stage> {
            reject_unknown_fields(o, {"command", "env", "timeout_ms", "terminate_grace_ms"}, where);
            ProcessStageOptions p;
            p.argv = optional_strict_list(o, "command", where);
            if (p.argv.empty()) {
                throw ConfigError(where + ".command", "is required: [program, arg, ...]");
            }
            for (std::string& entry : optional_strict_list(o, "env", where)) {
                (entry.find('=') == std::string::npos ? p.env_pass : p.env_add)
                    .push_back(std::move(entry));
            }
            p.timeout = optional_duration(o, "timeout_ms", std::chrono::seconds(5), where);
            p.terminate_grace =
                optional_duration(o, "terminate_grace_ms", std::chrono::seconds(2), where);
            if (p.timeout.count() <= 0) {
                throw ConfigError(where + ".timeout_ms", "must be positive");
            }
            return std::make_unique<ProcessStage>(std::move(p));
        });
}

}  // namespace scopeflow
