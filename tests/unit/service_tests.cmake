# The service's own logic (src/service/): config parsing, units, the option reference.
if(TARGET scopeflow_service)
  scopeflow_add_test(config_test SOURCES unit/config_test.cc LINK scopeflow_service)
  scopeflow_add_test(option_reference_test SOURCES unit/option_reference_test.cc
                     LINK scopeflow_service)
  target_compile_definitions(option_reference_test PRIVATE
    SCOPEFLOW_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
# The /metrics text: exposition format, escaping, counters, promtool when installed.
if(TARGET scopeflow_service)
  scopeflow_add_test(metrics_test SOURCES unit/metrics_test.cc LINK scopeflow_service)
endif()
