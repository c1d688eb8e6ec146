# HTTP batch POST: reused sessions against a connection per request, on the embedded server.
add_executable(http_benchmark ${CMAKE_CURRENT_SOURCE_DIR}/http_benchmark.cc)
target_link_libraries(http_benchmark PRIVATE scopeflow::http)
scopeflow_target_defaults(http_benchmark)
