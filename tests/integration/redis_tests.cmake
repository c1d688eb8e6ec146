# Redis connector tests, against the real server of scripts/test-servers.
scopeflow_add_test(redis_connection_test SOURCES integration/redis_connection_test.cc
                   LABELS server LINK scopeflow::redis)
scopeflow_add_test(redis_stage_test SOURCES integration/redis_stage_test.cc
                   LABELS server LINK scopeflow::redis)
scopeflow_add_test(redis_concurrency_test SOURCES integration/redis_concurrency_test.cc
                   LABELS concurrency LINK scopeflow::redis)

# One Redis test at a time: one of them restarts the server, which would break whichever other
# Redis test ctest -j runs beside it. gtest_discover_tests lists each binary's tests in
# <target>_TESTS when ctest reads its include file; this file, read after those, locks them.
set(_redis_lock_script ${CMAKE_CURRENT_BINARY_DIR}/redis_resource_lock.cmake)
file(WRITE ${_redis_lock_script}
  "foreach(_t redis_connection_test redis_stage_test redis_concurrency_test)\n"
  "  if(DEFINED \${_t}_TESTS)\n"
  "    set_tests_properties(\${\${_t}_TESTS} PROPERTIES RESOURCE_LOCK redis_server)\n"
  "  endif()\n"
  "endforeach()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_redis_lock_script})
