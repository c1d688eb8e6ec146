// Builds a runnable pipeline generation from a parsed config: resources, source, graph.
//
//   auto cfg = service::load_config("pipeline.yaml");
//   service::Built built = service::build(cfg);    // throws ConfigError "file:line: path: ..."
//   scopeflow::Pipeline p("main", std::move(built.graph), *built.source, built.pipeline);
//
// Building opens nothing: resources are created lazily (pools connect on first use), stages
// open when the pipeline starts. So `scopeflow check` can build a config to validate it fully
// (types, options, routes, resource names) without touching a server.
#pragma once

#include <memory>
#include <string>

#include <scopeflow/engine/graph.h>
#include <scopeflow/engine/pipeline.h>
#include <scopeflow/core/resources.h>
#include <scopeflow/engine/source.h>

#include "service/catalog.h"
#include "service/config.h"

namespace scopeflow::service {

struct Built {
    std::shared_ptr<Resources> resources;
    std::shared_ptr<Probes> probes;
    std::unique_ptr<Source> source;
    Graph graph;
    PipelineOptions pipeline;
};

// Uses standard_catalog() with fresh Resources.
[[nodiscard]] Built build(const ServiceConfig& cfg);
// With a caller's catalog (tests, embedders with their own stages).
[[nodiscard]] Built build(const ServiceConfig& cfg, Catalog& catalog);

// The message for a pipeline that failed to start, placed in the file when a stage or the
// source failed to open (`opening` is Pipeline::failed_to_open()):
//   "p.yaml:7: graph.stages.sink.directory (stage 'sink'): cannot create directory ..."
[[nodiscard]] std::string describe_start_failure(const ServiceConfig& cfg,
                                                 const std::string& opening,
                                                 const std::exception_ptr& error);

}  // namespace scopeflow::service
