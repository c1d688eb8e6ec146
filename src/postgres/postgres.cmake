# The PostgreSQL connector (libpq): connections, transactions, pipelined batches, the pooled
# sql::Database. The SQL stages that use it (sql_lookup, sql_upsert) work over any
# sql::Database and live with the built-in stages (src/stages/sql/).
find_package(PostgreSQL REQUIRED)
scopeflow_add_library(postgres COMPONENT postgres
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/connection.cc
    ${CMAKE_CURRENT_LIST_DIR}/connection_options.cc
    ${CMAKE_CURRENT_LIST_DIR}/postgres_database.cc
    ${CMAKE_CURRENT_LIST_DIR}/postgres_pool.cc
    ${CMAKE_CURRENT_LIST_DIR}/result.cc
    ${CMAKE_CURRENT_LIST_DIR}/transaction.cc
  PUBLIC_DEPS scopeflow_pool scopeflow_core
  PRIVATE_DEPS PostgreSQL::PostgreSQL
  HEADERS
    postgres/connection.h postgres/connection_options.h postgres/errors.h
    postgres/postgres_pool.h postgres/result.h postgres/transaction.h
)
