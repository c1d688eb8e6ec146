# The service: config, building pipelines from it, admin endpoint, monitor, and the run loop.
# A static library, scopeflow::service, used by the scopeflow binary, its tests and embedders:
# its public headers are include/scopeflow/service/ (service.h: run a pipeline file from C++);
# the rest of its headers are private (src/service/, on the include path of the build tree only).
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
scopeflow_add_library(service COMPONENT service
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/admin.cc
    ${CMAKE_CURRENT_LIST_DIR}/builder.cc
    ${CMAKE_CURRENT_LIST_DIR}/catalog.cc
    ${CMAKE_CURRENT_LIST_DIR}/config.cc
    ${CMAKE_CURRENT_LIST_DIR}/demo.cc
    ${CMAKE_CURRENT_LIST_DIR}/logging.cc
    ${CMAKE_CURRENT_LIST_DIR}/metrics.cc
    ${CMAKE_CURRENT_LIST_DIR}/monitor_view.cc
    ${CMAKE_CURRENT_LIST_DIR}/process_info.cc
    ${CMAKE_CURRENT_LIST_DIR}/resource_types.cc
    ${CMAKE_CURRENT_LIST_DIR}/runner.cc
    ${CMAKE_CURRENT_LIST_DIR}/scope_tree.cc
  PUBLIC_DEPS scopeflow_stages scopeflow_sources scopeflow_sqlite scopeflow_postgres
              scopeflow_redis scopeflow_http spdlog::spdlog
  PRIVATE_DEPS yaml-cpp simdjson::simdjson
  HEADERS service/exit_codes.h service/service.h
)
# The service's tests include its private headers ("service/config.h").
target_include_directories(scopeflow_service PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
