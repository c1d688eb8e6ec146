# SQLite: the embedded default database behind sql::Database, so the main job runs with no
# server. Links the SQLite C library privately.
find_package(SQLite3 REQUIRED)
scopeflow_add_library(sqlite COMPONENT sqlite
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/connection.cc
    ${CMAKE_CURRENT_LIST_DIR}/database.cc
    ${CMAKE_CURRENT_LIST_DIR}/transaction.cc
  PUBLIC_DEPS scopeflow_pool scopeflow_core
  PRIVATE_DEPS SQLite::SQLite3
  HEADERS sqlite/connection.h sqlite/database.h sqlite/statement.h sqlite/transaction.h
)
