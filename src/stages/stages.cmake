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
    # Each stage's options and registration, beside it; builtin_stages.cc calls them all.
    ${CMAKE_CURRENT_LIST_DIR}/aggregate/aggregate_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/fields/fields_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/file_sink/file_sink_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/files/file_processor_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/filter/filter_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/json/json_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/log/log_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/notify/notify_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/process/process_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/builtin_stages.cc
  PUBLIC_DEPS scopeflow_engine scopeflow_process scopeflow_budget scopeflow_pool
  HEADERS
    stages/aggregate_stages.h stages/builtin_stages.h stages/fields_stage.h stages/file_processor_stage.h
    stages/file_sink_stage.h stages/filter_stage.h stages/json_stages.h stages/log_stage.h
    stages/notify_stage.h stages/process_stage.h stages/rotating_file_writer.h
    stages/sql_stages.h
)
