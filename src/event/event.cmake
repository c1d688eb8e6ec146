# The event type and its JSON parser/serializer. simdjson stays a private dependency: no public
# header includes it (the library is static, so the package config finds it for consumers).
find_package(simdjson CONFIG REQUIRED)
scopeflow_add_library(event COMPONENT engine
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/event.cc
    ${CMAKE_CURRENT_LIST_DIR}/event_json.cc
  PRIVATE_DEPS simdjson::simdjson
  HEADERS event/event.h event/event_json.h
)
