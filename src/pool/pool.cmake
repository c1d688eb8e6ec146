# The generic connection pool. pool.h holds the contract (Pool<T>, hooks, the two lease types) as
# a thin typed layer; the machinery (slots, FIFO waiters, connect threads, validation, eviction)
# is compiled here with the connection's type erased, as are options, stats and messages.
# Connectors (PostgreSQL, Redis, SQLite, HTTP) plug in through PoolHooks<T> in their make_pool.
# sql/database.h is the interface the SQL connectors implement over their pools; it has no code
# of its own.
scopeflow_add_library(pool COMPONENT core
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/pool.cc
    ${CMAKE_CURRENT_LIST_DIR}/pool_core.cc
  PUBLIC_DEPS scopeflow_budget scopeflow_core
  HEADERS pool/pool.h pool/pool_base.h pool/pool_options.h sql/database.h
)
