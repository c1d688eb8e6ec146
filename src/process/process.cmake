# Child processes as owned resources: spawn without a shell, pipes, reaping, and a
# line-oriented channel over the pipes.
scopeflow_add_library(process COMPONENT core
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/child_process.cc
    ${CMAKE_CURRENT_LIST_DIR}/line_channel.cc
  PUBLIC_DEPS scopeflow_core
  HEADERS process/child_process.h process/line_channel.h
)
