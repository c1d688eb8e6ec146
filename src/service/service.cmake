# The service: config, building pipelines from it, admin endpoint, monitor, and the run loop.
# A static library, scopeflow::service, used by the scopeflow binary, its tests and embedders:
# its public headers are include/scopeflow/service/ (service.h: run a pipeline file from C++);
# the rest of its headers are private (src/service/, on the include path of the build tree only).
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
add_library(scopeflow_service STATIC
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
)
add_library(scopeflow::service ALIAS scopeflow_service)
set_target_properties(scopeflow_service PROPERTIES EXPORT_NAME service OUTPUT_NAME scopeflow_service)
target_include_directories(scopeflow_service PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
target_link_libraries(scopeflow_service PUBLIC scopeflow_core scopeflow_sqlite scopeflow_postgres scopeflow_redis scopeflow_http spdlog::spdlog PRIVATE yaml-cpp simdjson::simdjson)
scopeflow_target_defaults(scopeflow_service)
