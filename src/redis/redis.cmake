# The Redis connector (hiredis): scopeflow::redis, with the redis stage.
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)

add_library(scopeflow_redis STATIC
  ${CMAKE_CURRENT_LIST_DIR}/batch.cc
  ${CMAKE_CURRENT_LIST_DIR}/client.cc
  ${CMAKE_CURRENT_LIST_DIR}/connection.cc
  ${CMAKE_CURRENT_LIST_DIR}/connection_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/connection_pool.cc
  ${CMAKE_CURRENT_LIST_DIR}/errors.cc
  ${CMAKE_CURRENT_LIST_DIR}/hiredis_reply.cc
  ${CMAKE_CURRENT_LIST_DIR}/reply.cc
  ${CMAKE_CURRENT_LIST_DIR}/stages/key_template.cc
  ${CMAKE_CURRENT_LIST_DIR}/stages/redis_stage.cc
  ${CMAKE_CURRENT_LIST_DIR}/stages/register_redis_stages.cc
)
add_library(scopeflow::redis ALIAS scopeflow_redis)
target_include_directories(scopeflow_redis PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(scopeflow_redis PUBLIC scopeflow_core PRIVATE PkgConfig::HIREDIS)
scopeflow_target_defaults(scopeflow_redis)
set_target_properties(scopeflow_redis PROPERTIES EXPORT_NAME redis OUTPUT_NAME scopeflow_redis)
list(APPEND SCOPEFLOW_CONNECTOR_TARGETS scopeflow_redis)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS
  redis/batch.h
  redis/client.h
  redis/connection.h
  redis/connection_options.h
  redis/connection_pool.h
  redis/errors.h
  redis/reply.h
  redis/stages/redis_stage.h
)
