# Budgets: open files, memory, semaphores and tracked mutexes, each a named resource
# whose grants are recorded in the owner scope's ledger. No third-party library.
scopeflow_add_library(budget COMPONENT core
  SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/buffered_writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/fifo_quota.cc
  ${CMAKE_CURRENT_LIST_DIR}/file_budget.cc
  ${CMAKE_CURRENT_LIST_DIR}/memory_budget.cc
  ${CMAKE_CURRENT_LIST_DIR}/open_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/semaphore.cc
  ${CMAKE_CURRENT_LIST_DIR}/semaphore_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/temp_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/tracked_mutex.cc
  PUBLIC_DEPS scopeflow_core
  HEADERS
  budget/budget_error.h
  budget/buffered_writer.h
  budget/file_budget.h
  budget/file_permit.h
  budget/holder.h
  budget/memory_budget.h
  budget/open_file.h
  budget/semaphore.h
  budget/temp_file.h
  budget/tracked_mutex.h
)
