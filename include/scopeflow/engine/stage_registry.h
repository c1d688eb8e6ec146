// StageRegistry: stage types by name, each with its OptionsSchema and a factory.
//
// The engine knows no stage: each stage registers itself beside its factory, in its own folder
// (register_filter_stage() in src/stages/filter/, ...); register_builtin_stages()
// (scopeflow/stages/builtin_stages.h) calls those of the stages that need no server, the
// service's catalog adds the connectors', plugins add theirs when loaded (plugin.h). A factory
// receives the options already parsed by the schema and builds a ready Stage, or throws
// ConfigError naming the option ("graph.stages.enrich.query").
//
//   scopeflow::StageRegistry registry;
//   scopeflow::register_builtin_stages(registry);
//   auto stage = registry.create("filter", options, "graph.stages.big_orders");
//
// Thread safety: register everything first; create() and list() may then run concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <scopeflow/engine/options_schema.h>
#include <scopeflow/engine/stage.h>
#include <scopeflow/engine/type_registry.h>

namespace scopeflow {

struct StageTypeInfo {
    std::string type;
    std::string description;  // one line, shown by `scopeflow stages`
    std::string options;      // the schema's help: one "name: meaning (kind; default)" per line
    std::string origin;       // "builtin" or the plugin's path
};

class StageRegistry : public TypeRegistry<std::unique_ptr<Stage>> {
public:
    StageRegistry()
        : TypeRegistry("stage type") {}

    [[nodiscard]] std::vector<StageTypeInfo> list() const;
};

}  // namespace scopeflow
