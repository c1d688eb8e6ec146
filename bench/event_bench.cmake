# Event JSON parse + serialize against nlohmann::json (included from bench/CMakeLists.txt).
find_package(nlohmann_json 3 CONFIG REQUIRED)
add_executable(event_json_benchmark event_json_benchmark.cc)
target_link_libraries(event_json_benchmark PRIVATE scopeflow::event nlohmann_json::nlohmann_json)
scopeflow_target_defaults(event_json_benchmark)
