# SQLite: embedded, so no server is needed. The pool stress binary also runs under TSan.
scopeflow_add_test(sqlite_test SOURCES integration/sqlite_test.cc LINK scopeflow::sqlite)
scopeflow_add_test(sqlite_concurrency_test SOURCES integration/sqlite_concurrency_test.cc
                   LABELS concurrency LINK scopeflow::sqlite)
# SqlSource's progress (acked prefix, committed key, a stop ending the poll) over SQLite.
scopeflow_add_test(sql_source_progress_test SOURCES integration/sql_source_progress_test.cc
                   LABELS concurrency LINK scopeflow::sqlite)
