# Run as: cmake -DSOURCE_DIR=<repo> -P check_layers.cmake
#
# The layering rule of docs/architecture.md, checked on every source and public header: an area
# (a folder of src/ and its folder of include/scopeflow/) includes only headers of the areas it is
# allowed to depend on: the ones below it. A violation names the file, the line and
# the include.
cmake_minimum_required(VERSION 3.25)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "check_layers.cmake: -DSOURCE_DIR=<repo> is required")
endif()

# What each area may include besides itself (sql/ is the header-only interface of the SQL
# connectors, part of the pool layer).
set(allowed_core "")
set(allowed_budget core)
set(allowed_process core)
set(allowed_pool core budget sql)
set(allowed_sql core budget pool)
set(allowed_event "")
set(allowed_engine core event)
set(allowed_sources core budget pool sql event engine)
set(allowed_stages core budget process pool sql event engine)
set(allowed_postgres core budget pool sql)
set(allowed_sqlite core budget pool sql)
set(allowed_redis core budget pool event engine)
set(allowed_http core budget pool event engine)
set(allowed_service core budget process pool sql event engine sources stages postgres sqlite
                    redis http service)
set(areas core budget process pool sql event engine sources stages postgres sqlite redis http
          service)

set(violations "")
set(checked 0)
foreach(area IN LISTS areas)
  file(GLOB_RECURSE files
       "${SOURCE_DIR}/src/${area}/*.h" "${SOURCE_DIR}/src/${area}/*.cc"
       "${SOURCE_DIR}/include/scopeflow/${area}/*.h")
  foreach(f IN LISTS files)
    math(EXPR checked "${checked} + 1")
    # Public headers (<scopeflow/area/...>) and another area's private ones ("area/...", src/
    # being on each library's private include path).
    file(STRINGS "${f}" lines REGEX "^#include (<scopeflow/|\"[a-z_]+/)")
    foreach(line IN LISTS lines)
      set(CMAKE_MATCH_1 "")
      string(REGEX MATCH "^#include (<scopeflow/|\")([a-z_]+)/" _ "${line}")
      set(dep "${CMAKE_MATCH_2}")
      if(dep STREQUAL "" OR dep STREQUAL area OR dep IN_LIST allowed_${area})
        continue()
      endif()
      file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
      string(APPEND violations "  ${rel}: ${line} (${area} may include: ${allowed_${area}})\n")
    endforeach()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "check_layers: no file found under ${SOURCE_DIR}/src")
endif()
if(violations)
  message(FATAL_ERROR "check_layers: includes against the layering (docs/architecture.md):\n"
                      "${violations}")
endif()
message(STATUS "check_layers: ${checked} files follow the layering")
