# The HTTP connector: libcurl sessions pooled into a Client, an embedded HTTP/1.1 server over
# libmicrohttpd (admin endpoints, HTTP ingest), the http ingest source and the http_post stage.
find_package(CURL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
scopeflow_add_library(http COMPONENT http
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/client.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_body.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_source.cc
    ${CMAKE_CURRENT_LIST_DIR}/ingest_source_factory.cc
    ${CMAKE_CURRENT_LIST_DIR}/message.cc
    ${CMAKE_CURRENT_LIST_DIR}/server.cc
    ${CMAKE_CURRENT_LIST_DIR}/session.cc
    ${CMAKE_CURRENT_LIST_DIR}/stages/http_post_stage.cc
  PUBLIC_DEPS scopeflow_engine scopeflow_pool scopeflow_core
  PRIVATE_DEPS CURL::libcurl PkgConfig::MICROHTTPD
  HEADERS
    http/client.h http/client_options.h http/errors.h http/ingest_source.h http/message.h
    http/server.h http/session.h http/stages/http_post_stage.h
)
