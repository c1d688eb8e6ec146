// TypeRegistry: the types a pipeline file may name in one section (stages, sources, resources),
// each with its OptionsSchema and a factory that receives the options parsed by that schema.
//
//   scopeflow::SourceRegistry sources;
//   sources.add(OptionsSchema("generator", "synthetic events")
//                   .add({.name = "count", .kind = OptionKind::integer, .default_value = "0"}),
//               [](const ParsedOptions& o) { return make_generator(o.integer("count")); });
//   auto source = sources.create("generator", options, "source");  // throws ConfigError
//
// create() parses the options with the type's schema first, so every check that needs no
// server runs before the factory, at `check` as at `run`. An unknown type is an error at
// "<where>.type" suggesting the closest name.
//
// Thread safety: register everything first; create() and entries() may then run concurrently.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <scopeflow/engine/options_schema.h>

namespace scopeflow {

namespace detail {
// Throws ConfigError("<where>.type", "unknown <noun> '<type>' (did you mean ...)").
[[noreturn]] void throw_unknown_type(std::string_view noun,
                                     std::string_view type,
                                     const std::vector<std::string_view>& known,
                                     const std::string& where);
// Throws ConfigError for a type registered twice, naming both origins.
[[noreturn]] void throw_registered_twice(std::string_view noun,
                                         const std::string& type,
                                         const std::string& first,
                                         const std::string& second);
}  // namespace detail

template <typename Made>
class TypeRegistry {
public:
    using Factory = std::function<Made(const ParsedOptions& options)>;

    struct Entry {
        OptionsSchema schema;
        Factory factory;
        std::string origin;  // "builtin" or a plugin's path
    };

    // `noun` names the section's types in errors: "stage type", "type".
    explicit TypeRegistry(std::string noun)
        : noun_(std::move(noun)) {}

    // Throws ConfigError for a type registered twice.
    void add(OptionsSchema schema, Factory factory, std::string origin = "builtin") {
        if (const Entry* e = find(schema.type())) {
            detail::throw_registered_twice(noun_, schema.type(), e->origin, origin);
        }
        std::string type = schema.type();
        entries_.emplace(std::move(type),
                         Entry{std::move(schema), std::move(factory), std::move(origin)});
    }

    // Parses `options` with the type's schema and runs its factory. `where` is the
    // component's dotted path, `name` its name in the file (a resource's key).
    [[nodiscard]] Made create(std::string_view type,
                              const StageOptions& options,
                              const std::string& where,
                              std::string name = {}) const {
        const Entry* e = find(type);
        if (e == nullptr) {
            std::vector<std::string_view> known;
            for (const auto& [n, entry] : entries_) {
                known.push_back(n);
            }
            detail::throw_unknown_type(noun_, type, known, where);
        }
        const ParsedOptions parsed = e->schema.parse(options, where, std::move(name));
        return e->factory(parsed);
    }

    [[nodiscard]] bool contains(std::string_view type) const { return find(type) != nullptr; }
    [[nodiscard]] const Entry* find(std::string_view type) const {
        const auto it = entries_.find(type);
        return it == entries_.end() ? nullptr : &it->second;
    }
    // Every type, by name.
    [[nodiscard]] std::vector<const Entry*> entries() const {
        std::vector<const Entry*> out;
        for (const auto& [n, entry] : entries_) {
            out.push_back(&entry);
        }
        return out;
    }

private:
    std::string noun_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace scopeflow
