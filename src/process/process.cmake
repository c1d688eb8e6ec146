# Child processes as owned resources: spawn without a shell, pipes, reaping, and a
# line-oriented channel over the pipes. Included from the root CMakeLists.txt, in its scope.
target_sources(scopeflow_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/child_process.cc
  ${CMAKE_CURRENT_LIST_DIR}/line_channel.cc
)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS
  process/child_process.h
  process/line_channel.h
)
