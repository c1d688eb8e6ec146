// The built-in sources, each registered by a function beside its factory.
//
//   scopeflow::SourceRegistry sources;
//   scopeflow::register_builtin_sources(sources, *resources);
//
// The HTTP ingest source registers with its connector: register_http_ingest_source()
// (scopeflow/http/ingest_source.h).
#pragma once

#include <scopeflow/core/resources.h>
#include <scopeflow/engine/source_registry.h>

namespace scopeflow {

void register_jsonl_source(SourceRegistry& registry);
void register_stdin_source(SourceRegistry& registry);
void register_generator_source(SourceRegistry& registry);
// The `sql` source looks its database up in `resources`, which must outlive create() calls.
void register_sql_source(SourceRegistry& registry, const Resources& resources);

// All of the above.
void register_builtin_sources(SourceRegistry& registry, const Resources& resources);

}  // namespace scopeflow
