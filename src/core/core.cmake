# The core: scopes, the ledger, fault injection, secrets, owned descriptors. Threads only, no
# third-party library.
scopeflow_add_library(core COMPONENT core
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/error.cc
    ${CMAKE_CURRENT_LIST_DIR}/fault_injector.cc
    ${CMAKE_CURRENT_LIST_DIR}/files.cc
    ${CMAKE_CURRENT_LIST_DIR}/histogram.cc
    ${CMAKE_CURRENT_LIST_DIR}/ledger.cc
    ${CMAKE_CURRENT_LIST_DIR}/resource_monitor.cc
    ${CMAKE_CURRENT_LIST_DIR}/scope.cc
    ${CMAKE_CURRENT_LIST_DIR}/scope_node.cc
    ${CMAKE_CURRENT_LIST_DIR}/secret.cc
    ${CMAKE_CURRENT_LIST_DIR}/unique_fd.cc
    ${CMAKE_CURRENT_LIST_DIR}/work_scope.cc
  PUBLIC_DEPS Threads::Threads
  HEADERS
    core/detail/coarse_clock.h
    core/detail/resource_ops.h
    core/error.h
    core/fault_injector.h
    core/files.h
    core/histogram.h
    core/interruptible_sleep.h
    core/ledger.h
    core/resource_kind.h
    core/resource_monitor.h
    core/resources.h
    core/scope.h
    core/scope_guard.h
    core/secret.h
    core/ticket.h
    core/timing_scope.h
    core/unique_fd.h
    core/unique_function.h
    core/version.h
    core/work_scope.h
)
