# HTTP connector tests: real libcurl against the embedded server (scopeflow::http::Server) on
# loopback, so they need no external server.
scopeflow_add_test(http_server_test SOURCES integration/http_server_test.cc
                   LABELS server LINK scopeflow::http)
scopeflow_add_test(http_client_test SOURCES integration/http_client_test.cc
                   LABELS server LINK scopeflow::http)
scopeflow_add_test(http_post_stage_test SOURCES integration/http_post_stage_test.cc
                   LABELS server LINK scopeflow::http)
scopeflow_add_test(http_concurrency_test SOURCES integration/http_concurrency_test.cc
                   LABELS concurrency LINK scopeflow::http)
# The HTTP ingest source in a real pipeline (no servers needed; also under TSan).
scopeflow_add_test(http_ingest_test SOURCES integration/http_ingest_test.cc
                   LABELS concurrency LINK scopeflow::http)
# 1000 idle + 1000 slowloris connections against the service's admin endpoint and the ingest
# source.
if(TARGET scopeflow_service)
  scopeflow_add_test(http_load_test SOURCES integration/http_load_test.cc
                     LABELS server LINK scopeflow_service)
endif()
# The ingest body parser (private to src/http, hence src/ on the include path): pure logic.
scopeflow_add_test(http_ingest_body_test SOURCES unit/http_ingest_body_test.cc
                   LINK scopeflow::http)
target_include_directories(http_ingest_body_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
