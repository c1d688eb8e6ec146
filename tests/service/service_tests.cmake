# The scopeflow binary, run for real (label "service").
if(TARGET scopeflow)
  scopeflow_add_test(service_binary_test SOURCES service/service_binary_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(service_binary_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(service_binary_test scopeflow)
endif()
