# The generic connection pool: Pool<T> in pool/pool.h; options, stats and messages are compiled
# here. Connectors plug in through PoolHooks<T>. sql/database.h is the interface the SQL
# connectors (PostgreSQL, SQLite) implement over their pools; it has no code of its own.
scopeflow_add_library(pool COMPONENT core
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pool.cc
  PUBLIC_DEPS scopeflow_budget scopeflow_core
  HEADERS pool/pool.h pool/pool_options.h sql/database.h
)
