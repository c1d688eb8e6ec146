# The PostgreSQL connector (libpq): connections, transactions, pipelined batches, the pooled
# sql::Database. The SQL stages that use it (sql_lookup, sql_upsert) work over any
# sql::Database and live in the core (src/stages/sql/).
find_package(PostgreSQL REQUIRED)
add_library(scopeflow_postgres STATIC
  ${CMAKE_CURRENT_LIST_DIR}/connection.cc
  ${CMAKE_CURRENT_LIST_DIR}/connection_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/postgres_database.cc
  ${CMAKE_CURRENT_LIST_DIR}/postgres_pool.cc
  ${CMAKE_CURRENT_LIST_DIR}/result.cc
  ${CMAKE_CURRENT_LIST_DIR}/transaction.cc
)
add_library(scopeflow::postgres ALIAS scopeflow_postgres)
target_link_libraries(scopeflow_postgres PUBLIC scopeflow_core PRIVATE PostgreSQL::PostgreSQL)
scopeflow_target_defaults(scopeflow_postgres)
set_target_properties(scopeflow_postgres PROPERTIES EXPORT_NAME postgres
                                                    OUTPUT_NAME scopeflow_postgres)
list(APPEND SCOPEFLOW_CONNECTOR_TARGETS scopeflow_postgres)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS
  postgres/connection.h
  postgres/connection_options.h
  postgres/errors.h
  postgres/postgres_pool.h
  postgres/result.h
  postgres/transaction.h
)
