// OptionsSchema: a stage's, source's or resource type's options, declared once, as data.
//
// Each option has a name, a kind, a default (in config syntax, shown in the help), a unit, a
// one-line doc, a required flag and validation that needs no server. From that one declaration
// come the help text (`scopeflow stages`), the option reference in docs/configuration.md, the
// unknown-key check with did-you-mean, every type and range check, and the typed reads: a
// factory reads its options through ParsedOptions and never repeats a name's default.
//
//   OptionsSchema schema("log", "prints events as JSON lines (stderr by default)");
//   schema.add({.name = "every", .kind = OptionKind::integer, .doc = "log one event in this many",
//               .default_value = "1", .min = 1})
//       .add({.name = "stream", .doc = "where lines go", .default_value = "stderr",
//             .choices = {"stderr", "stdout"}});
//   const ParsedOptions p = schema.parse(options, "graph.stages.trace");  // throws ConfigError
//   const std::int64_t every = p.integer("every");                          // 1 when not given
//
// Errors name the place: "graph.stages.trace.every: must be at least 1" (the service adds the
// file and line). Parsing runs for `check` and `run` alike, so both reject the same files.
//
// Thread safety: a schema is immutable once registered; parse() may run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/event/event.h>

namespace scopeflow {

// A component's options: a JSON object (from the YAML config, or built in code).
using StageOptions = Event;

class ParsedOptions;

enum class OptionKind : unsigned char {
    string,       // a string
    integer,      // a whole number (may be negative)
    count,        // a whole number >= 0; a quoted one ("5432", as "${PORT}" gives) too
    boolean,      // true or false
    duration,     // "500ms", "30s", "5m", "1h", or a number of milliseconds (units.h)
    bytes,        // "64KiB", "16MiB", "1GB", or a number of bytes (units.h)
    list,         // a list of strings, or one comma-separated string
    strict_list,  // a list of strings only (argv-like: a comma or space may be in an item)
    object,       // a mapping
    any,          // any value (e.g. what a filter compares with)
};

// "a duration", "a list of strings", ... as the help and the reference show a kind.
[[nodiscard]] std::string_view kind_name(OptionKind kind) noexcept;

// One option. Written with designated initializers, fields in this order.
struct Option {
    using Check = std::function<void(const ParsedOptions& options, const std::string& where)>;

    std::string name;
    OptionKind kind = OptionKind::string;
    std::string doc;            // one line: what the option means
    std::string default_value;  // config syntax ("1m", "64MiB", "eq", "true"); empty: none
    std::string default_doc;    // shown when the default is not a value ("the directory")
    std::string unit;           // for numbers: "events", "rows", ... (durations/sizes carry theirs)
    bool required = false;
    std::vector<std::string> choices;  // a string option: the values allowed
    std::optional<std::int64_t> min;   // integer, count, bytes; duration in milliseconds
    std::optional<std::int64_t> max;
    // Further validation without a server (a directory that must exist, an address's syntax),
    // run at `check` and `run` when the option is given or has a default. Throws ConfigError
    // naming `where` (the option's dotted path).
    Check check;
};

class OptionsSchema {
public:
    // A check over several options ("url or path, not both"); `where` is the component's path.
    using Check = std::function<void(const ParsedOptions& options, const std::string& where)>;

    OptionsSchema(std::string type, std::string description);

    // Adds an option; a name given twice or a default that does not parse is a programming
    // error (throws scopeflow::Error at registration, so every test that registers sees it).
    OptionsSchema& add(Option option) &;
    OptionsSchema&& add(Option option) &&;
    // Adds options shared by several types (a pool's settings, retries).
    OptionsSchema& add_all(const std::vector<Option>& options) &;
    OptionsSchema&& add_all(const std::vector<Option>& options) &&;
    // A check that needs several options, run after each option's own.
    OptionsSchema& check(Check check) &;
    OptionsSchema&& check(Check check) &&;

    [[nodiscard]] const std::string& type() const noexcept { return type_; }
    [[nodiscard]] const std::string& description() const noexcept { return description_; }
    [[nodiscard]] const std::vector<Option>& options() const noexcept { return options_; }
    [[nodiscard]] const Option* find(std::string_view name) const noexcept;

    // Validates `options` completely: unknown keys (with a did-you-mean), required options,
    // kinds, ranges, choices, each option's check, then the schema's checks. `where` is the
    // component's dotted path ("graph.stages.enrich"), `name` its name in the file (a resource's
    // key). The result refers to `options`, which must outlive it.
    [[nodiscard]] ParsedOptions parse(const StageOptions& options,
                                      std::string where,
                                      std::string name = {}) const;

    // One "name: doc (kind, default x)" line per option, as `scopeflow stages` prints them.
    [[nodiscard]] std::string help() const;
    // The description and a Markdown table of the options, for docs/configuration.md.
    [[nodiscard]] std::string markdown() const;
    // The same declaration without its check functions: for a registry that must not keep code
    // from a plugin library, which may be unloaded before the registry is destroyed.
    [[nodiscard]] OptionsSchema without_checks() const;

private:
    std::string type_;
    std::string description_;
    std::vector<Option> options_;
    std::vector<Value> defaults_;  // options_[i]'s default as a value; null when none
    std::vector<Check> checks_;

    friend class ParsedOptions;
};

// A component's options after OptionsSchema::parse: typed reads, defaults from the schema.
// Reading an option the schema does not declare, or with a read of another kind, is a
// programming error (throws scopeflow::Error).
class ParsedOptions {
public:
    [[nodiscard]] const std::string& where() const noexcept { return where_; }
    [[nodiscard]] std::string where(std::string_view option) const;  // "<where>.<option>"
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const StageOptions& raw() const noexcept { return *options_; }
    [[nodiscard]] const OptionsSchema& schema() const noexcept { return *schema_; }

    // Whether the file gives the option (a default does not count).
    [[nodiscard]] bool given(std::string_view option) const;

    // Each returns the given value, else the default, else an empty value (0, "", {}).
    [[nodiscard]] std::string string(std::string_view option) const;
    [[nodiscard]] std::int64_t integer(std::string_view option) const;
    [[nodiscard]] std::uint64_t count(std::string_view option) const;
    [[nodiscard]] bool boolean(std::string_view option) const;
    [[nodiscard]] std::chrono::milliseconds duration(std::string_view option) const;
    [[nodiscard]] std::uint64_t bytes(std::string_view option) const;
    [[nodiscard]] std::vector<std::string> list(std::string_view option) const;  // list, strict
    [[nodiscard]] Event object(std::string_view option) const;
    // An `any` option's value; nullptr when neither given nor defaulted.
    [[nodiscard]] const Value* value(std::string_view option) const;

private:
    friend class OptionsSchema;
    ParsedOptions(const OptionsSchema& schema,
                  const StageOptions& options,
                  std::string where,
                  std::string name);
    // The given value or the default (nullptr: neither), after checking `option` has `kind`.
    [[nodiscard]] const Value* lookup(std::string_view option,
                                      std::initializer_list<OptionKind> kinds) const;

    const OptionsSchema* schema_;
    const StageOptions* options_;
    std::string where_;
    std::string name_;
};

// Typed reads of one field without a schema (the service's own sections, plugins built before
// schemas): each throws ConfigError naming `where.field`, with the messages a schema gives.
std::string require_string(const StageOptions& o, std::string_view field, const std::string& where);
std::string optional_string(const StageOptions& o,
                            std::string_view field,
                            std::string fallback,
                            const std::string& where);
std::int64_t optional_int(const StageOptions& o,
                          std::string_view field,
                          std::int64_t fallback,
                          const std::string& where);
std::chrono::milliseconds optional_duration(const StageOptions& o,
                                            std::string_view field,
                                            std::chrono::milliseconds fallback,
                                            const std::string& where);
std::uint64_t optional_bytes(const StageOptions& o,
                             std::string_view field,
                             std::uint64_t fallback,
                             const std::string& where);
std::vector<std::string> optional_string_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where);
std::vector<std::string> optional_strict_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where);
// Rejects fields not in `known`, suggesting the closest known one.
void reject_unknown_fields(const StageOptions& o,
                           std::initializer_list<std::string_view> known,
                           const std::string& where);

// Checks shared by several options (Option::check).
namespace option_checks {
// The string option names an existing directory: "'x' is not an existing directory".
[[nodiscard]] Option::Check existing_directory();
// The directory exists or can be created: its nearest existing ancestor is a directory.
[[nodiscard]] Option::Check creatable_directory();
}  // namespace option_checks

// " (did you mean 'x'?)" for the name in `names` closest to `wrong`, or "" when none is close.
[[nodiscard]] std::string did_you_mean(std::string_view wrong,
                                       const std::vector<std::string_view>& names);

}  // namespace scopeflow
