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
# Chaos (label "chaos"): server restarts, SIGTERM and SIGKILL under load; the short form runs
# here (alone: it restarts the servers every other server test uses), the long form is
# scripts/chaos.
if(TARGET scopeflow)
  scopeflow_add_test(chaos_test SOURCES service/chaos_test.cc LABELS chaos SERIAL
                     LINK scopeflow::postgres scopeflow::redis scopeflow::http)
  target_compile_definitions(chaos_test PRIVATE SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(chaos_test scopeflow)
endif()
# Resource exhaustion (label "service"): a full filesystem (tmpfs, needs root) and no free
# descriptor, through the binary.
if(TARGET scopeflow)
  scopeflow_add_test(exhaustion_test SOURCES service/exhaustion_test.cc LABELS service)
  target_compile_definitions(exhaustion_test PRIVATE SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  target_link_libraries(exhaustion_test PRIVATE scopeflow::http)
  add_dependencies(exhaustion_test scopeflow)
endif()
if(TARGET scopeflow)
  scopeflow_add_test(service_reliability_test SOURCES service/service_reliability_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(service_reliability_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(service_reliability_test scopeflow)
endif()
# The service as one scope tree (label "service"): /resources and the exit report rooted at the
# service scope, release in reverse on SIGTERM, SIGINT, a failed start and a failed reload.
if(TARGET scopeflow)
  scopeflow_add_test(service_scope_test SOURCES service/service_scope_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(service_scope_test PRIVATE SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(service_scope_test scopeflow)
endif()
# The service as a library, in the test's process: stop and reload from another thread
# (label "concurrency", so TSan runs it); ScopeTree's pure logic (label "unit").
if(TARGET scopeflow_service)
  scopeflow_add_test(service_library_test SOURCES service/service_library_test.cc
                     LABELS concurrency LINK scopeflow::service)
  target_compile_definitions(service_library_test PRIVATE SCOPEFLOW_BIN="")
  scopeflow_add_test(scope_tree_test SOURCES service/scope_tree_test.cc LINK scopeflow::service)
endif()
# `check` and `run` on a corpus of broken pipeline files: the same error from both.
if(TARGET scopeflow)
  scopeflow_add_test(check_run_agreement_test SOURCES service/check_run_agreement_test.cc
                     LABELS service LINK scopeflow::http)
  target_compile_definitions(check_run_agreement_test PRIVATE
    SCOPEFLOW_BIN="$<TARGET_FILE:scopeflow>")
  add_dependencies(check_run_agreement_test scopeflow)
endif()
