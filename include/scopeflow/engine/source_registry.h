// SourceRegistry: source types by name (`source: {type: jsonl, ...}`), each with its
// OptionsSchema and a factory, like StageRegistry for stages.
//
//   scopeflow::SourceRegistry sources;
//   scopeflow::register_builtin_sources(sources, resources);  //
//   scopeflow/sources/builtin_sources.h auto source = sources.create("jsonl", options, "source");
#pragma once

#include <memory>

#include <scopeflow/engine/source.h>
#include <scopeflow/engine/type_registry.h>

namespace scopeflow {

class SourceRegistry : public TypeRegistry<std::unique_ptr<Source>> {
public:
    SourceRegistry()
        : TypeRegistry("type") {}
};

}  // namespace scopeflow
