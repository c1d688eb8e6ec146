# Redis stage and connection pipelines vs redis-benchmark (needs the server of
# scripts/test-servers at run time: SCOPEFLOW_TEST_REDIS_*).
add_executable(redis_benchmark ${CMAKE_CURRENT_LIST_DIR}/redis_benchmark.cc)
target_link_libraries(redis_benchmark PRIVATE scopeflow::sources scopeflow::process scopeflow::redis)
scopeflow_target_defaults(redis_benchmark)
