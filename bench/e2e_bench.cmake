# End to end: JSONL -> sql_lookup (PostgreSQL) -> file sink + http_post to an embedded
# server, against JSONL -> file sink in the same run. Needs the PostgreSQL server of
# scripts/test-servers at run time (SCOPEFLOW_TEST_PG_*), not at build time.
if(TARGET scopeflow_postgres AND TARGET scopeflow_http)
  add_executable(e2e_benchmark ${CMAKE_CURRENT_LIST_DIR}/e2e_benchmark.cc)
  target_link_libraries(e2e_benchmark PRIVATE scopeflow::stages scopeflow::sources scopeflow::postgres scopeflow::http)
  scopeflow_target_defaults(e2e_benchmark)
endif()
