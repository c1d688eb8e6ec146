# Child processes (src/process/): real programs from the base system. Labelled "concurrency" so
# scripts/test also runs them under TSan (spawn() forks from multi-threaded tests).
scopeflow_add_test(child_process_test SOURCES unit/child_process_test.cc LABELS concurrency)
