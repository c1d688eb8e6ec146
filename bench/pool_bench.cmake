add_executable(pool_benchmark ${CMAKE_CURRENT_LIST_DIR}/pool_benchmark.cc)
target_link_libraries(pool_benchmark PRIVATE scopeflow::pool)
scopeflow_target_defaults(pool_benchmark)
