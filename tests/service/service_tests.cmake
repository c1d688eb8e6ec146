# The scopeflow binary, run for real (label "service").
if(TARGET scopeflow)
  scopeflow_add_test(service_binary_test SOURCES service/service_binary_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(service_binary_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>"
    SCOPEFLOW_EXAMPLES_DIR="${PROJECT_SOURCE_DIR}/examples")
  add_dependencies(service_binary_test scopeflow)
endif()
if(TARGET scopeflow)
  scopeflow_add_test(service_server_test SOURCES service/service_server_test.cc LABELS server)
  target_compile_definitions(service_server_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  target_link_libraries(service_server_test PRIVATE scopeflow::http)
  add_dependencies(service_server_test scopeflow)
endif()
if(TARGET scopeflow)
  scopeflow_add_test(service_reliability_test SOURCES service/service_reliability_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(service_reliability_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(service_reliability_test scopeflow)
endif()
