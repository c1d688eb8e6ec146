# SQLite: the embedded default database behind sql::Database, so the main job runs with
# no server. A library of its own, linking the SQLite C library privately.
find_package(SQLite3 REQUIRED)
add_library(scopeflow_sqlite STATIC
  ${CMAKE_CURRENT_LIST_DIR}/connection.cc
  ${CMAKE_CURRENT_LIST_DIR}/database.cc
  ${CMAKE_CURRENT_LIST_DIR}/transaction.cc
)
add_library(scopeflow::sqlite ALIAS scopeflow_sqlite)
target_link_libraries(scopeflow_sqlite PUBLIC scopeflow_core PRIVATE SQLite::SQLite3)
scopeflow_target_defaults(scopeflow_sqlite)
set_target_properties(scopeflow_sqlite PROPERTIES EXPORT_NAME sqlite OUTPUT_NAME scopeflow_sqlite)
list(APPEND SCOPEFLOW_CONNECTOR_TARGETS scopeflow_sqlite)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS
  sqlite/connection.h
  sqlite/database.h
  sqlite/statement.h
  sqlite/transaction.h
)
