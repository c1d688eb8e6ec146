# The Redis connector (hiredis): connections, pipelined batches, the pool, the client, and the
# redis stage (src/redis/stages).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
scopeflow_add_library(redis COMPONENT redis
  SOURCES
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
  PUBLIC_DEPS scopeflow_engine scopeflow_pool scopeflow_core
  PRIVATE_DEPS PkgConfig::HIREDIS
  HEADERS
    redis/batch.h redis/client.h redis/connection.h redis/connection_options.h
    redis/connection_pool.h redis/errors.h redis/reply.h redis/stages/redis_stage.h
)
