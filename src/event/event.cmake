# The event type and its JSON parser/serializer (included from the root CMakeLists.txt, in its
# scope). simdjson stays a private dependency: no public header includes it. scopeflow_core is a
# static library, so the installed package config must find_dependency(simdjson) as well.
find_package(simdjson CONFIG REQUIRED)
target_sources(scopeflow_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/event.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_json.cc)
target_link_libraries(scopeflow_core PRIVATE simdjson::simdjson)
list(APPEND SCOPEFLOW_PUBLIC_HEADERS event/event.h event/event_json.h)
