# The service's own logic (src/service/): config parsing, units.
if(TARGET scopeflow_service)
  scopeflow_add_test(config_test SOURCES unit/config_test.cc LINK scopeflow_service)
endif()
# The /metrics text: exposition format, escaping, counters, promtool when installed.
if(TARGET scopeflow_service)
  scopeflow_add_test(metrics_test SOURCES unit/metrics_test.cc LINK scopeflow_service)
endif()
