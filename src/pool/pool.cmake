# The generic connection pool: Pool<T> is a template in pool.h; options, stats and
# messages are compiled here. Connectors (PostgreSQL, Redis) plug in through PoolHooks<T>.
target_sources(scopeflow_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/pool.cc)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS pool/pool.h pool/pool_options.h)
