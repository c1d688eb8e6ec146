# Budgets: open files, buffered writers and temp files (single-threaded), and the
# memory budget, semaphore and tracked mutex (threads: also run under TSan).
scopeflow_add_test(budget_files_test SOURCES unit/budget_files_test.cc)
scopeflow_add_test(budget_sync_test SOURCES unit/budget_sync_test.cc LABELS concurrency)
