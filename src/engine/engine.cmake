# The pipeline engine: stages, graph, pipeline execution.
target_sources(scopeflow_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/graph.cc
  ${CMAKE_CURRENT_LIST_DIR}/log.cc
  ${CMAKE_CURRENT_LIST_DIR}/pipeline.cc
  ${CMAKE_CURRENT_LIST_DIR}/stage.cc
)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS engine/gate.h engine/graph.h engine/log.h engine/log_limiter.h engine/node.h engine/pipeline.h engine/source.h
     engine/stage.h)
target_sources(scopeflow_core PRIVATE ${CMAKE_SOURCE_DIR}/src/sources/jsonl_file_source.cc)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS sources/ack_window.h sources/jsonl_file_source.h)

# Built-in stages: one folder each.
target_sources(scopeflow_core PRIVATE
  ${CMAKE_SOURCE_DIR}/src/stages/aggregate/aggregate_stages.cc
  ${CMAKE_SOURCE_DIR}/src/stages/file_sink/file_sink_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/file_sink/rotating_file_writer.cc
  ${CMAKE_SOURCE_DIR}/src/stages/fields/fields_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/filter/filter_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/json/json_stages.cc
  ${CMAKE_SOURCE_DIR}/src/stages/log/log_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/process/process_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/sql/sql_stages.cc
  ${CMAKE_SOURCE_DIR}/src/stages/files/file_processor_stage.cc
  ${CMAKE_SOURCE_DIR}/src/stages/notify/notify_stage.cc
)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS stages/rotating_file_writer.h stages/aggregate_stages.h
     stages/fields_stage.h
     stages/file_sink_stage.h stages/filter_stage.h stages/json_stages.h stages/log_stage.h
     stages/process_stage.h stages/sql_stages.h stages/file_processor_stage.h
     stages/notify_stage.h)
target_sources(scopeflow_core PRIVATE ${CMAKE_SOURCE_DIR}/src/sources/generator_source.cc
  ${CMAKE_SOURCE_DIR}/src/sources/sql_source.cc
  ${CMAKE_SOURCE_DIR}/src/sources/stream_source.cc)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS sources/generator_source.h sources/sql_source.h sources/stream_source.h)
target_sources(scopeflow_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/plugin.cc
  ${CMAKE_CURRENT_LIST_DIR}/stage_registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/units.cc
)
target_link_libraries(scopeflow_core PUBLIC ${CMAKE_DL_LIBS})
list(APPEND SCOPEFLOW_PUBLIC_HEADERS engine/plugin.h engine/stage_registry.h engine/units.h)
