# SQLite: embedded, so no server is needed. The pool stress binary also runs under TSan.
scopeflow_add_test(sqlite_test SOURCES integration/sqlite_test.cc LINK scopeflow::sqlite)
scopeflow_add_test(sqlite_concurrency_test SOURCES integration/sqlite_concurrency_test.cc
                   LABELS concurrency LINK scopeflow::sqlite)
