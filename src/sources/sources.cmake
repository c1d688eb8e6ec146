# Built-in sources: JSONL files, SQL tables (over sql::Database), streams, a generator.
scopeflow_add_library(sources COMPONENT engine
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/builtin_sources.cc
    ${CMAKE_CURRENT_LIST_DIR}/generator_source.cc
    ${CMAKE_CURRENT_LIST_DIR}/jsonl_file_source.cc
    ${CMAKE_CURRENT_LIST_DIR}/sql_source.cc
    ${CMAKE_CURRENT_LIST_DIR}/stream_source.cc
  PUBLIC_DEPS scopeflow_engine scopeflow_pool
  PRIVATE_DEPS simdjson::simdjson
  HEADERS
    sources/ack_window.h sources/builtin_sources.h sources/generator_source.h sources/jsonl_file_source.h sources/sql_source.h
    sources/stream_source.h
)
