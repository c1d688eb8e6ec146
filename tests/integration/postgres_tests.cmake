# PostgreSQL connector and SQL stage tests, against the server of scripts/test-servers.
if(TARGET scopeflow_postgres)
  scopeflow_add_test(postgres_test SOURCES integration/postgres_test.cc
                     LABELS server LINK scopeflow::postgres)
  scopeflow_add_test(sql_stages_test SOURCES integration/sql_stages_test.cc
                     LABELS server LINK scopeflow::postgres)
  # 8 threads over a pool of 4: also run under TSan.
  scopeflow_add_test(postgres_concurrency_test SOURCES integration/postgres_concurrency_test.cc
                     LABELS concurrency LINK scopeflow::postgres)
  # Restarts the server: must not overlap any other test using it, hence RUN_SERIAL (which
  # scopeflow_add_test cannot pass), otherwise the same settings.
  add_executable(postgres_restart_test integration/postgres_restart_test.cc)
  target_link_libraries(postgres_restart_test PRIVATE scopeflow::stages scopeflow::sources scopeflow::postgres scopeflow_test_support
                        GTest::gtest GTest::gtest_main)
  target_include_directories(postgres_restart_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  scopeflow_target_defaults(postgres_restart_test)
  gtest_discover_tests(postgres_restart_test PROPERTIES LABELS server RUN_SERIAL TRUE TIMEOUT 120
                       DISCOVERY_TIMEOUT 60)
endif()
