# Built-in stages that need no server, one folder each (connector stages live in their
# connector's folder: src/redis/stages, src/http/stages).
scopeflow_add_library(stages COMPONENT engine
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/aggregate/aggregate_stages.cc
    ${CMAKE_CURRENT_LIST_DIR}/fields/fields_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/file_sink/file_sink_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/file_sink/rotating_file_writer.cc
    ${CMAKE_CURRENT_LIST_DIR}/files/file_processor_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/filter/filter_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/json/json_stages.cc
    ${CMAKE_CURRENT_LIST_DIR}/log/log_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/notify/notify_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/process/process_stage.cc
    ${CMAKE_CURRENT_LIST_DIR}/sql/sql_stages.cc
  PUBLIC_DEPS scopeflow_engine scopeflow_process scopeflow_budget scopeflow_pool
  HEADERS
    stages/aggregate_stages.h stages/fields_stage.h stages/file_processor_stage.h
    stages/file_sink_stage.h stages/filter_stage.h stages/json_stages.h stages/log_stage.h
    stages/notify_stage.h stages/process_stage.h stages/rotating_file_writer.h
    stages/sql_stages.h
)
# The stage registry still registers the built-ins from the engine; until each stage registers
# itself, the engine needs the stages library (a cycle CMake allows between static libraries).
target_link_libraries(scopeflow_engine PRIVATE scopeflow_stages)
