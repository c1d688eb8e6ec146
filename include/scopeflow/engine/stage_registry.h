// StageRegistry: stage types by name, each with a factory that validates its options once.
//
// Built-ins are registered explicitly (register_builtin_stages), plugins add theirs when they are
// loaded (plugin.h). A factory turns a stage's options, a JSON object, into a ready Stage or
// throws ConfigError naming the field; `where` is prefixed to every message so it points at the
// config ("pipeline.yaml:14: graph.stages.enrich").
//
//   scopeflow::StageRegistry registry;
//   scopeflow::register_builtin_stages(registry);
//   auto stage = registry.create("filter", options, "graph.stages.big_orders");
//
// Thread safety: register everything first; create() and list() may then run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/event/event.h>
#include <scopeflow/engine/stage.h>

namespace scopeflow {

// A stage's options: a JSON object (from the YAML config or built in code).
using StageOptions = Event;

struct StageTypeInfo {
    std::string type;
    std::string description;  // one line, shown by `scopeflow stages`
    std::string options;      // option reference, one "name: meaning" per line
    std::string origin;       // "builtin" or the plugin's path
};

class StageRegistry {
public:
    using Factory = std::function<std::unique_ptr<Stage>(const StageOptions& options,
                                                         const std::string& where)>;

    void add(StageTypeInfo info, Factory factory);

    // Throws ConfigError for an unknown type (suggesting the closest name) or bad options.
    [[nodiscard]] std::unique_ptr<Stage> create(std::string_view type,
                                                const StageOptions& options,
                                                const std::string& where) const;

    [[nodiscard]] bool contains(std::string_view type) const;
    [[nodiscard]] std::vector<StageTypeInfo> list() const;

private:
    struct Entry {
        StageTypeInfo info;
        Factory factory;
    };
    std::map<std::string, Entry, std::less<>> entries_;
};

// Registers filter, file_sink, ... (the stages that need no server).
void register_builtin_stages(StageRegistry& registry);

// Option helpers for factories: typed reads that throw ConfigError naming `where.field`.
std::string require_string(const StageOptions& o, std::string_view field, const std::string& where);
std::string optional_string(const StageOptions& o,
                            std::string_view field,
                            std::string fallback,
                            const std::string& where);
std::int64_t optional_int(const StageOptions& o,
                          std::string_view field,
                          std::int64_t fallback,
                          const std::string& where);
// A duration option (units.h): "500ms", "30s", "5m", "1h", or a bare number of milliseconds.
std::chrono::milliseconds optional_duration(const StageOptions& o,
                                            std::string_view field,
                                            std::chrono::milliseconds fallback,
                                            const std::string& where);
// A size option (units.h): "64KiB", "16MiB", "1GB", or a bare number of bytes.
std::uint64_t optional_bytes(const StageOptions& o,
                             std::string_view field,
                             std::uint64_t fallback,
                             const std::string& where);
// A list option: a JSON array of strings (a YAML list), or one comma-separated string; empty
// when missing.
std::vector<std::string> optional_string_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where);
// A list option that must be a YAML list (argv-like values, where a comma or a space may be part
// of an item): a string is an error suggesting the list form, e.g. "[cat, -u]". Empty when
// missing.
std::vector<std::string> optional_strict_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where);
// Rejects fields the stage does not know, suggesting the closest known one.
void reject_unknown_fields(const StageOptions& o,
                           std::initializer_list<std::string_view> known,
                           const std::string& where);

}  // namespace scopeflow
