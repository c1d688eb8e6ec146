# The HTTP connector: libcurl sessions pooled into a Client, an embedded HTTP/1.1
# server over libmicrohttpd (admin endpoints, HTTP ingest), and the http_post stage.
find_package(CURL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
add_library(scopeflow_http STATIC
  ${CMAKE_CURRENT_LIST_DIR}/client.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest_body.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/ingest_source_factory.cc
  ${CMAKE_CURRENT_LIST_DIR}/message.cc
  ${CMAKE_CURRENT_LIST_DIR}/server.cc
  ${CMAKE_CURRENT_LIST_DIR}/session.cc
  ${CMAKE_CURRENT_LIST_DIR}/stages/http_post_stage.cc
)
add_library(scopeflow::http ALIAS scopeflow_http)
target_include_directories(scopeflow_http PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(scopeflow_http PUBLIC scopeflow_core PRIVATE CURL::libcurl PkgConfig::MICROHTTPD)
scopeflow_target_defaults(scopeflow_http)
set_target_properties(scopeflow_http PROPERTIES EXPORT_NAME http OUTPUT_NAME scopeflow_http)
list(APPEND SCOPEFLOW_CONNECTOR_TARGETS scopeflow_http)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS
  http/client.h
  http/client_options.h
  http/errors.h
  http/ingest_source.h
  http/message.h
  http/server.h
  http/session.h
  http/stages/http_post_stage.h
)
