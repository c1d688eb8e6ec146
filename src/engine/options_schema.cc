#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <utility>

#include <simdjson.h>

#include <scopeflow/core/error.h>
#include <scopeflow/engine/options_schema.h>
#include <scopeflow/engine/units.h>
#include <scopeflow/event/event_json.h>

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

std::string field_where(const std::string& where, std::string_view field) {
    return where + "." + std::string(field);
}

// "a, b or c"
std::string joined(const std::vector<std::string>& items, std::string_view last_sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += i + 1 == items.size() ? last_sep : std::string_view(", ");
        }
        out += items[i];
    }
    return out;
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
std::optional<std::vector<std::string>> json_string_list(const Value& v, const std::string& at) {
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
            throw ConfigError(at, "expected a list of strings");
        }
        out.emplace_back(sv);
    }
    return out;
}

// --- one read per kind; `at` is the option's dotted path --------------------------------------

std::string read_string(const Value& v, const std::string& at) {
    if (v.kind() != ValueKind::string) {
        throw ConfigError(at, "must be a string");
    }
    return std::string(v.as_string());
}

std::int64_t read_integer(const Value& v, const std::string& at) {
    if (v.kind() != ValueKind::integer) {
        throw ConfigError(at, "must be an integer");
    }
    return v.as_int();
}

std::uint64_t read_count(const Value& v, const std::string& at) {
    if (v.kind() == ValueKind::integer && v.as_int() >= 0) {
        return static_cast<std::uint64_t>(v.as_int());
    }
    if (v.kind() == ValueKind::string) {
        const std::string_view s = v.as_string();
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
            return n;
        }
    }
    throw ConfigError(at, "expected a whole number >= 0");
}

bool read_boolean(const Value& v, const std::string& at) {
    if (v.kind() != ValueKind::boolean) {
        throw ConfigError(at, "must be true or false");
    }
    return v.as_bool();
}

std::chrono::milliseconds read_duration(const Value& v, const std::string& at) {
    if (v.kind() == ValueKind::integer && v.as_int() >= 0) {
        return std::chrono::milliseconds(v.as_int());
    }
    if (v.kind() == ValueKind::number && std::isfinite(v.as_double()) && v.as_double() >= 0 &&
        v.as_double() <= 1e15) {
        return std::chrono::milliseconds(static_cast<std::int64_t>(v.as_double()));
    }
    if (v.kind() == ValueKind::string) {
        if (auto d = parse_duration(v.as_string())) {
            return *d;
        }
    }
    throw ConfigError(at, "expected " + std::string(kDurationHint) + ", got " + shown(v));
}

std::uint64_t read_bytes(const Value& v, const std::string& at) {
    if (v.kind() == ValueKind::integer && v.as_int() >= 0) {
        return static_cast<std::uint64_t>(v.as_int());
    }
    if (v.kind() == ValueKind::string) {
        if (auto n = parse_bytes(v.as_string())) {
            return *n;
        }
    }
    throw ConfigError(at, "expected " + std::string(kSizeHint) + ", got " + shown(v));
}

std::vector<std::string> read_list(const Value& v, const std::string& at) {
    if (v.kind() == ValueKind::string) {
        return split_list(v.as_string());
    }
    if (auto list = json_string_list(v, at)) {
        return std::move(*list);
    }
    throw ConfigError(at, "expected a list of strings (or one comma-separated string)");
}

std::vector<std::string> read_strict_list(const Value& v,
                                          std::string_view field,
                                          const std::string& at) {
    if (auto list = json_string_list(v, at)) {
        return std::move(*list);
    }
    std::string example;
    if (v.kind() == ValueKind::string) {
        for (const auto& word : split_words(v.as_string())) {
            example += (example.empty() ? "" : ", ") + word;
        }
    }
    throw ConfigError(at, "expected a list, not " + shown(v) + ": write " + std::string(field) +
                              ": [" + (example.empty() ? "item, ..." : example) + "]");
}

Event read_object(const Value& v, const std::string& at) {
    Event out;
    EventParser parser;
    if (v.kind() != ValueKind::raw || !parser.parse(v.raw_json(), out)) {
        throw ConfigError(at, "must be an object");
    }
    return out;
}

// Durations, sizes and lists read a null (`key:` with nothing after it) as "not given".
bool null_is_absent(OptionKind kind) {
    return kind == OptionKind::duration || kind == OptionKind::bytes || kind == OptionKind::list ||
           kind == OptionKind::strict_list;
}

// The number a range applies to (durations in milliseconds); nullopt for other kinds.
std::optional<std::int64_t> ranged_number(const Option& o, const Value& v, const std::string& at) {
    switch (o.kind) {
        case OptionKind::integer:
            return read_integer(v, at);
        case OptionKind::count:
            return static_cast<std::int64_t>(std::min<std::uint64_t>(read_count(v, at), INT64_MAX));
        case OptionKind::duration:
            return read_duration(v, at).count();
        case OptionKind::bytes:
            return static_cast<std::int64_t>(std::min<std::uint64_t>(read_bytes(v, at), INT64_MAX));
        default:
            return std::nullopt;
    }
}

std::string range_text(const Option& o) {
    const bool ms = o.kind == OptionKind::duration;
    const auto num = [ms](std::int64_t n) { return std::to_string(n) + (ms ? "ms" : ""); };
    if (o.min && o.max) {
        return "must be in " + num(*o.min) + ".." + num(*o.max);
    }
    if (o.min && *o.min == 0) {
        return "must not be negative";
    }
    if (o.min && *o.min == 1 && ms) {
        return "must be positive";
    }
    if (o.min) {
        return "must be at least " + num(*o.min);
    }
    return "must be at most " + num(*o.max);
}

// Reads `v` as `o` declares it, throwing ConfigError at `at` for a value of the wrong kind,
// out of range or not among the choices.
void validate_value(const Option& o, const Value& v, const std::string& at) {
    switch (o.kind) {
        case OptionKind::string: {
            const std::string s = read_string(v, at);
            if (!o.choices.empty() &&
                std::find(o.choices.begin(), o.choices.end(), s) == o.choices.end()) {
                throw ConfigError(at, "must be " + joined(o.choices, " or ") + ", not '" + s + "'");
            }
            break;
        }
        case OptionKind::boolean:
            (void)read_boolean(v, at);
            break;
        case OptionKind::list:
            (void)read_list(v, at);
            break;
        case OptionKind::strict_list:
            (void)read_strict_list(v, o.name, at);
            break;
        case OptionKind::object:
            (void)read_object(v, at);
            break;
        case OptionKind::any:
            break;
        default:
            if (const auto n = ranged_number(o, v, at)) {
                if ((o.min && *n < *o.min) || (o.max && *n > *o.max)) {
                    throw ConfigError(at, range_text(o));
                }
            }
    }
}

// The default of `o` as a value of its kind (null when none), checked like a given value.
Value default_of(const std::string& type, const Option& o) {
    if (o.default_value.empty()) {
        return {};
    }
    Value v(o.default_value);
    if (o.kind == OptionKind::integer || o.kind == OptionKind::count) {
        std::int64_t n = 0;
        const std::string& s = o.default_value;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec != std::errc() || end != s.data() + s.size()) {
            throw Error("schema '" + type + "': option '" + o.name + "': default '" + s +
                        "' is not a whole number");
        }
        v = Value(n);
    } else if (o.kind == OptionKind::boolean) {
        if (o.default_value != "true" && o.default_value != "false") {
            throw Error("schema '" + type + "': option '" + o.name +
                        "': default must be true or "
                        "false");
        }
        v = Value(o.default_value == "true");
    }
    try {
        validate_value(o, v, type + "." + o.name);
    } catch (const ConfigError& e) {
        throw Error("schema '" + type +
                    "': the default of an option does not hold: " + std::string(e.what()));
    }
    return v;
}

std::string code(std::string_view s) {
    return "`" + std::string(s) + "`";
}

// "required", "default 1m", "default: the directory" or "".
std::string default_note(const Option& o) {
    if (o.required) {
        return "required";
    }
    if (!o.default_value.empty()) {
        return "default " + o.default_value;
    }
    return o.default_doc.empty() ? std::string() : "default: " + o.default_doc;
}

// What values an option takes: "integer >= 1", "eq, ne or lt", "duration", ...
std::string values_note(const Option& o) {
    if (!o.choices.empty()) {
        return joined(o.choices, " or ");
    }
    std::string out(kind_name(o.kind));
    const std::string ms = o.kind == OptionKind::duration ? "ms" : "";
    if (o.min && o.max) {
        out += " in " + std::to_string(*o.min) + ms + ".." + std::to_string(*o.max) + ms;
    } else if (o.min) {
        out += " >= " + std::to_string(*o.min) + ms;
    } else if (o.max) {
        out += " <= " + std::to_string(*o.max) + ms;
    }
    return o.unit.empty() ? out : out + ", " + o.unit;
}

}  // namespace

std::string_view kind_name(OptionKind kind) noexcept {
    switch (kind) {
        case OptionKind::string:
            return "string";
        case OptionKind::integer:
            return "integer";
        case OptionKind::count:
            return "whole number";
        case OptionKind::boolean:
            return "true/false";
        case OptionKind::duration:
            return "duration";
        case OptionKind::bytes:
            return "size";
        case OptionKind::list:
            return "list or comma-separated string";
        case OptionKind::strict_list:
            return "list";
        case OptionKind::object:
            return "mapping";
        case OptionKind::any:
            return "any value";
    }
    return "?";
}

std::string did_you_mean(std::string_view wrong, const std::vector<std::string_view>& names) {
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

// --- OptionsSchema ------------------------------------------------------------------------------

OptionsSchema::OptionsSchema(std::string type, std::string description)
    : type_(std::move(type)),
      description_(std::move(description)) {}

OptionsSchema& OptionsSchema::add(Option option) & {
    if (find(option.name) != nullptr) {
        throw Error("schema '" + type_ + "': option '" + option.name + "' declared twice");
    }
    if (option.required && !option.default_value.empty()) {
        throw Error("schema '" + type_ + "': option '" + option.name +
                    "' is required and has a default");
    }
    defaults_.push_back(default_of(type_, option));
    options_.push_back(std::move(option));
    return *this;
}

OptionsSchema&& OptionsSchema::add(Option option) && {
    add(std::move(option));
    return std::move(*this);
}

OptionsSchema& OptionsSchema::add_all(const std::vector<Option>& options) & {
    for (const Option& o : options) {
        add(o);
    }
    return *this;
}

OptionsSchema&& OptionsSchema::add_all(const std::vector<Option>& options) && {
    add_all(options);
    return std::move(*this);
}

OptionsSchema& OptionsSchema::check(Check check) & {
    checks_.push_back(std::move(check));
    return *this;
}

OptionsSchema&& OptionsSchema::check(Check check) && {
    this->check(std::move(check));
    return std::move(*this);
}

const Option* OptionsSchema::find(std::string_view name) const noexcept {
    for (const Option& o : options_) {
        if (o.name == name) {
            return &o;
        }
    }
    return nullptr;
}

ParsedOptions OptionsSchema::parse(const StageOptions& options,
                                   std::string where,
                                   std::string name) const {
    for (const auto& field : options) {
        if (find(field.key) == nullptr) {
            std::vector<std::string_view> names;
            std::vector<std::string> all;
            for (const Option& o : options_) {
                names.push_back(o.name);
                all.push_back(o.name);
            }
            std::string hint = did_you_mean(field.key, names);
            if (hint.empty()) {
                hint =
                    all.empty() ? " (it takes no options)" : " (known: " + joined(all, ", ") + ")";
            }
            throw ConfigError(field_where(where, field.key),
                              "unknown option '" + field.key + "'" + hint);
        }
    }
    ParsedOptions parsed(*this, options, std::move(where), std::move(name));
    for (const Option& o : options_) {
        const Value* v = options.find(o.name);
        const bool absent = v == nullptr || (v->is_null() && null_is_absent(o.kind));
        const std::string at = parsed.where(o.name);
        if (absent && o.required) {
            throw ConfigError(at, "is required");
        }
        if (!absent) {
            validate_value(o, *v, at);
        }
    }
    for (std::size_t i = 0; i < options_.size(); ++i) {
        if (options_[i].check && (parsed.given(options_[i].name) || !defaults_[i].is_null())) {
            options_[i].check(parsed, parsed.where(options_[i].name));
        }
    }
    for (const Check& c : checks_) {
        c(parsed, parsed.where());
    }
    return parsed;
}

std::string OptionsSchema::help() const {
    std::string out;
    for (const Option& o : options_) {
        const std::string def = default_note(o);
        out += (out.empty() ? "" : "\n") + o.name + ": " + o.doc + " (" + values_note(o) +
               (def.empty() ? "" : "; " + def) + ")";
    }
    return out;
}

std::string OptionsSchema::markdown() const {
    // Text in a table cell: a '|' would end the cell, a '<' open an HTML tag.
    const auto cell = [](std::string s) {
        for (std::size_t p = s.find_first_of("|<"); p != std::string::npos;
             p = s.find_first_of("|<", p + 4)) {
            s.replace(p, 1, s[p] == '|' ? "\\|" : "&lt;");
        }
        return s;
    };
    std::string out = cell(description_) + ".\n\n";
    if (options_.empty()) {
        return out + "No options.\n";
    }
    out += "| option | values | default | meaning |\n|---|---|---|---|\n";
    for (const Option& o : options_) {
        std::string values = values_note(o);
        if (!o.choices.empty()) {
            std::vector<std::string> quoted;
            for (const auto& c : o.choices) {
                quoted.push_back(code(c));
            }
            values = joined(quoted, ", ");
        }
        const std::string def = o.required                 ? "required"
                                : !o.default_value.empty() ? code(o.default_value)
                                                           : cell(o.default_doc);
        out +=
            "| " + code(o.name) + " | " + cell(values) + " | " + def + " | " + cell(o.doc) + " |\n";
    }
    return out;
}

OptionsSchema OptionsSchema::without_checks() const {
    OptionsSchema out = *this;
    for (Option& o : out.options_) {
        o.check = nullptr;
    }
    out.checks_.clear();
    return out;
}

// --- ParsedOptions ------------------------------------------------------------------------------

ParsedOptions::ParsedOptions(const OptionsSchema& schema,
                             const StageOptions& options,
                             std::string where,
                             std::string name)
    : schema_(&schema),
      options_(&options),
      where_(std::move(where)),
      name_(std::move(name)) {}

std::string ParsedOptions::where(std::string_view option) const {
    return field_where(where_, option);
}

bool ParsedOptions::given(std::string_view option) const {
    const Option* o = schema_->find(option);
    const Value* v = options_->find(option);
    return v != nullptr && !(o != nullptr && v->is_null() && null_is_absent(o->kind));
}

const Value* ParsedOptions::lookup(std::string_view option,
                                   std::initializer_list<OptionKind> kinds) const {
    const auto& opts = schema_->options_;
    for (std::size_t i = 0; i < opts.size(); ++i) {
        if (opts[i].name != option) {
            continue;
        }
        if (std::find(kinds.begin(), kinds.end(), opts[i].kind) == kinds.end()) {
            throw Error("schema '" + schema_->type_ + "': option '" + std::string(option) +
                        "' is a " + std::string(kind_name(opts[i].kind)) +
                        ", read as another kind");
        }
        if (given(option)) {
            return options_->find(option);
        }
        return schema_->defaults_[i].is_null() ? nullptr : &schema_->defaults_[i];
    }
    throw Error("schema '" + schema_->type_ + "': no option '" + std::string(option) + "'");
}

std::string ParsedOptions::string(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::string});
    return v == nullptr ? std::string() : read_string(*v, where(option));
}

std::int64_t ParsedOptions::integer(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::integer});
    return v == nullptr ? 0 : read_integer(*v, where(option));
}

std::uint64_t ParsedOptions::count(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::count});
    return v == nullptr ? 0 : read_count(*v, where(option));
}

bool ParsedOptions::boolean(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::boolean});
    return v != nullptr && read_boolean(*v, where(option));
}

std::chrono::milliseconds ParsedOptions::duration(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::duration});
    return v == nullptr ? std::chrono::milliseconds(0) : read_duration(*v, where(option));
}

std::uint64_t ParsedOptions::bytes(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::bytes});
    return v == nullptr ? 0 : read_bytes(*v, where(option));
}

std::vector<std::string> ParsedOptions::list(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::list, OptionKind::strict_list});
    if (v == nullptr) {
        return {};
    }
    return schema_->find(option)->kind == OptionKind::list
               ? read_list(*v, where(option))
               : read_strict_list(*v, option, where(option));
}

Event ParsedOptions::object(std::string_view option) const {
    const Value* v = lookup(option, {OptionKind::object});
    return v == nullptr ? Event() : read_object(*v, where(option));
}

const Value* ParsedOptions::value(std::string_view option) const {
    return lookup(option, {OptionKind::any});
}

// --- checks -------------------------------------------------------------------------------------

namespace option_checks {

Option::Check existing_directory() {
    return [](const ParsedOptions& p, const std::string& where) {
        const std::string option = where.substr(where.rfind('.') + 1);
        const std::string dir = p.string(option);
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            throw ConfigError(where, "'" + dir + "' is not an existing directory");
        }
    };
}

Option::Check creatable_directory() {
    return [](const ParsedOptions& p, const std::string& where) {
        const std::string option = where.substr(where.rfind('.') + 1);
        const std::string dir = p.string(option);
        std::error_code ec;
        std::filesystem::path at = std::filesystem::absolute(dir, ec);
        while (!ec && !at.empty() && !std::filesystem::exists(at, ec)) {
            if (at == at.parent_path()) {
                break;
            }
            at = at.parent_path();
        }
        if (ec) {
            throw ConfigError(where, "cannot create directory '" + dir + "': " + ec.message());
        }
        if (!std::filesystem::is_directory(at, ec)) {
            throw ConfigError(where, at.string() == std::filesystem::absolute(dir, ec).string()
                                         ? "'" + dir + "' exists and is not a directory"
                                         : "cannot create directory '" + dir + "': '" +
                                               at.string() + "' is not a directory");
        }
    };
}

}  // namespace option_checks

// --- reads without a schema ---------------------------------------------------------------------

std::string require_string(const StageOptions& o,
                           std::string_view field,
                           const std::string& where) {
    const Value* v = o.find(field);
    if (v == nullptr) {
        throw ConfigError(field_where(where, field), "is required");
    }
    return read_string(*v, field_where(where, field));
}

std::string optional_string(const StageOptions& o,
                            std::string_view field,
                            std::string fallback,
                            const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr ? fallback : read_string(*v, field_where(where, field));
}

std::int64_t optional_int(const StageOptions& o,
                          std::string_view field,
                          std::int64_t fallback,
                          const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr ? fallback : read_integer(*v, field_where(where, field));
}

std::chrono::milliseconds optional_duration(const StageOptions& o,
                                            std::string_view field,
                                            std::chrono::milliseconds fallback,
                                            const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr || v->is_null() ? fallback : read_duration(*v, field_where(where, field));
}

std::uint64_t optional_bytes(const StageOptions& o,
                             std::string_view field,
                             std::uint64_t fallback,
                             const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr || v->is_null() ? fallback : read_bytes(*v, field_where(where, field));
}

std::vector<std::string> optional_string_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr || v->is_null() ? std::vector<std::string>()
                                        : read_list(*v, field_where(where, field));
}

std::vector<std::string> optional_strict_list(const StageOptions& o,
                                              std::string_view field,
                                              const std::string& where) {
    const Value* v = o.find(field);
    return v == nullptr || v->is_null() ? std::vector<std::string>()
                                        : read_strict_list(*v, field, field_where(where, field));
}

void reject_unknown_fields(const StageOptions& o,
                           std::initializer_list<std::string_view> known,
                           const std::string& where) {
    for (const auto& field : o) {
        if (std::find(known.begin(), known.end(), field.key) == known.end()) {
            throw ConfigError(field_where(where, field.key),
                              "unknown option '" + field.key + "'" +
                                  did_you_mean(field.key, std::vector<std::string_view>(known)));
        }
    }
}

}  // namespace scopeflow
