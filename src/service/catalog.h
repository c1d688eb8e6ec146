// Catalog: what a pipeline file may name, by type: resources, sources and stages, each with a
// factory that validates its options and a line of help for `scopeflow stages`.
//
//   auto resources = std::make_shared<scopeflow::Resources>();
//   service::Catalog catalog = service::standard_catalog(resources);  // everything built in
//   auto stage = catalog.stages.create("sql_lookup", options, "graph.stages.enrich");
//
// Resource factories add a named resource to the Resources they were given; stage factories
// look resources up in the same object. A catalog belongs to one pipeline generation (a reload
// makes a new one with fresh resources).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/core/resources.h>
#include <scopeflow/engine/source.h>
#include <scopeflow/engine/stage_registry.h>

#include "service/config.h"
#include "service/probe.h"

namespace scopeflow::service {

struct TypeInfo {
    std::string type;
    std::string description;  // one line
    std::string options;      // "name: meaning" per line
};

template <typename Made>
class TypeTable {
public:
    using Factory = std::function<Made(const Block& block)>;

    void add(TypeInfo info, Factory factory) {
        std::string key = info.type;
        entries_.insert_or_assign(std::move(key), Entry{std::move(info), std::move(factory)});
    }
    // Throws ConfigError("<block.path>.type") for an unknown type, naming the known ones.
    Made create(const Block& block) const {
        auto it = entries_.find(block.type);
        if (it == entries_.end()) {
            std::string known;
            for (const auto& [name, e] : entries_) {
                known += (known.empty() ? "" : ", ") + name;
            }
            throw ConfigError(block.path + ".type",
                              "unknown type '" + block.type + "' (known: " + known + ")");
        }
        return it->second.factory(block);
    }
    [[nodiscard]] std::vector<TypeInfo> list() const {
        std::vector<TypeInfo> out;
        for (const auto& [name, e] : entries_) {
            out.push_back(e.info);
        }
        return out;
    }

private:
    struct Entry {
        TypeInfo info;
        Factory factory;
    };
    std::map<std::string, Entry, std::less<>> entries_;
};

struct Catalog {
    std::shared_ptr<Resources> resources;
    std::shared_ptr<Probes> probes = std::make_shared<Probes>();  // one per declared resource
    TypeTable<void> resource_types;                               // each factory adds to *resources
    TypeTable<std::unique_ptr<Source>> sources;
    StageRegistry stages;
};

// Built-in resources, sources and stages (and the connectors this build has), wired to
// `resources`.
[[nodiscard]] Catalog standard_catalog(std::shared_ptr<Resources> resources);

}  // namespace scopeflow::service
