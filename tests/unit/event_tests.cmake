# Event, Value and their JSON parser/serializer (included from tests/CMakeLists.txt).
scopeflow_add_test(event_test SOURCES unit/event_test.cc)
