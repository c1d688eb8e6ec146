# The pipeline engine: stages, the graph, pipeline execution, the options schema and the type
# registries, plugins, units. It knows no built-in stage or source: each registers itself from
# its own folder (src/stages/<name>/<name>_factory.cc, src/sources/builtin_sources.cc).
scopeflow_add_library(engine COMPONENT engine
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/graph.cc
    ${CMAKE_CURRENT_LIST_DIR}/log.cc
    ${CMAKE_CURRENT_LIST_DIR}/options_schema.cc
    ${CMAKE_CURRENT_LIST_DIR}/pipeline.cc
    ${CMAKE_CURRENT_LIST_DIR}/plugin.cc
    ${CMAKE_CURRENT_LIST_DIR}/stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/stage_registry.cc
    ${CMAKE_CURRENT_LIST_DIR}/units.cc
  PUBLIC_DEPS scopeflow_event scopeflow_core ${CMAKE_DL_LIBS}
  PRIVATE_DEPS simdjson::simdjson
  HEADERS
    engine/gate.h engine/graph.h engine/log.h engine/log_limiter.h engine/node.h
    engine/options_schema.h engine/pipeline.h engine/plugin.h engine/source.h
    engine/source_registry.h engine/stage.h engine/stage_registry.h engine/type_registry.h
    engine/units.h
)
