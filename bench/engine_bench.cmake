find_package(TBB REQUIRED)
add_executable(engine_benchmark ${CMAKE_CURRENT_LIST_DIR}/engine_benchmark.cc)
target_link_libraries(engine_benchmark PRIVATE scopeflow::stages scopeflow::sources TBB::tbb)
scopeflow_target_defaults(engine_benchmark)
