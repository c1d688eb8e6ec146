scopeflow_add_test(pool_test SOURCES unit/pool_test.cc LABELS concurrency)
