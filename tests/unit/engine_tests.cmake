scopeflow_add_test(pipeline_test SOURCES unit/pipeline_test.cc LABELS concurrency)
scopeflow_add_test(gate_test SOURCES unit/gate_test.cc LABELS concurrency)
scopeflow_add_test(node_test SOURCES unit/node_test.cc)
scopeflow_add_test(jsonl_source_test SOURCES unit/jsonl_source_test.cc LABELS concurrency)
scopeflow_add_test(ack_window_test SOURCES unit/ack_window_test.cc)
scopeflow_add_test(graph_reachable_test SOURCES unit/graph_reachable_test.cc)

# The sample plugin, and a test host that exports scopeflow's symbols to it.
add_library(scopeflow_upper MODULE ${PROJECT_SOURCE_DIR}/plugins/sample_upper/upper_plugin.cc)
target_include_directories(scopeflow_upper PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_features(scopeflow_upper PRIVATE cxx_std_20)
scopeflow_set_warnings(scopeflow_upper)
scopeflow_enable_sanitizers(scopeflow_upper)

add_executable(plugin_test unit/plugin_test.cc)
target_link_libraries(plugin_test PRIVATE scopeflow::stages scopeflow_test_support GTest::gtest GTest::gtest_main)
# Every object of the layers a plugin calls into is linked and exported, used by the host or not.
set_target_properties(plugin_test PROPERTIES ENABLE_EXPORTS ON)
foreach(_layer core event)
  set_property(TARGET plugin_test PROPERTY LINK_LIBRARY_OVERRIDE_scopeflow_${_layer} WHOLE_ARCHIVE)
endforeach()
target_include_directories(plugin_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(plugin_test PRIVATE
  SCOPEFLOW_SAMPLE_PLUGIN="$<TARGET_FILE:scopeflow_upper>")
add_dependencies(plugin_test scopeflow_upper)
scopeflow_target_defaults(plugin_test)
gtest_discover_tests(plugin_test PROPERTIES LABELS unit TIMEOUT 120 DISCOVERY_TIMEOUT 60)
scopeflow_add_test(builtin_stages_test SOURCES unit/builtin_stages_test.cc LABELS concurrency)
scopeflow_add_test(process_stage_test SOURCES unit/process_stage_test.cc LABELS concurrency)
scopeflow_add_test(aggregate_test SOURCES unit/aggregate_test.cc LABELS concurrency)
scopeflow_add_test(batch_failure_test SOURCES unit/batch_failure_test.cc LABELS concurrency)
scopeflow_add_test(stream_source_test SOURCES unit/stream_source_test.cc LABELS concurrency)
scopeflow_add_test(log_limiter_test SOURCES unit/log_limiter_test.cc LABELS concurrency)
# Graph on its own: validation, reachability, routes and cycles (pure logic, no threads).
scopeflow_add_test(graph_test SOURCES unit/graph_test.cc)
# SqlSource against a real SQLite file: paging, contiguous acks, resume after the committed key.
scopeflow_add_test(sql_source_test SOURCES unit/sql_source_test.cc LINK scopeflow::sqlite)
# Declared options: schema parsing, defaults, help, and the stage registry.
scopeflow_add_test(options_schema_test SOURCES unit/options_schema_test.cc)
