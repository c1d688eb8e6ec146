# SQL lookups (query, sql_lookup stage, pipelined) against pgbench -S on the same server.
if(TARGET scopeflow_postgres)
  add_executable(postgres_benchmark ${CMAKE_CURRENT_LIST_DIR}/postgres_benchmark.cc)
  target_link_libraries(postgres_benchmark PRIVATE scopeflow::stages scopeflow::sources scopeflow::postgres)
  scopeflow_target_defaults(postgres_benchmark)
endif()
