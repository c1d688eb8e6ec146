# Run as: cmake -DSOURCE_DIR=<repo> -DBINARY_DIR=<build> -DCONSUMER_DIR=<consumer sources>
#               -DGENERATOR=<generator> [-DWORK_DIR=<scratch>] [-DCXX_COMPILER=<c++>]
#               [-DBUILD_TYPE=<type>] [-DSERVICE_CONSUMER_DIR=<service consumer sources>]
#               -P run_install_test.cmake
#
# 1. cmake --install BINARY_DIR --prefix WORK_DIR/prefix   (a fresh prefix every run)
# 2. configure CONSUMER_DIR with CMAKE_PREFIX_PATH=WORK_DIR/prefix, build it
# 3. run the consumer; any failing step is a FATAL_ERROR carrying that step's output.
cmake_minimum_required(VERSION 3.25)

foreach(var SOURCE_DIR BINARY_DIR CONSUMER_DIR GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_install_test.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT WORK_DIR)
  set(WORK_DIR "${BINARY_DIR}/install_consumer")
endif()
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")

# step(NAME COMMAND...): runs the command, fails with its output if it exits non-zero.
function(step name)
  message(STATUS "install_consumer: ${name}")
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${name} failed (${rc}):\n${ARGN}\n${out}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

step("install" ${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}")

# consumer(LABEL SOURCE BUILD [CONFIGURE args...] RUN command...): configures the project in
# SOURCE against the fresh prefix, builds it in BUILD and runs the command.
function(consumer label source build)
  cmake_parse_arguments(ARG "" "" "CONFIGURE;RUN" ${ARGN})
  set(args -G "${GENERATOR}" -S "${source}" -B "${build}" "-DCMAKE_PREFIX_PATH=${prefix}"
           ${ARG_CONFIGURE})
  if(CXX_COMPILER)
    list(APPEND args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
  endif()
  if(BUILD_TYPE)
    list(APPEND args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  endif()
  step("configure ${label}" ${CMAKE_COMMAND} ${args})
  step("build ${label}" ${CMAKE_COMMAND} --build "${build}")
  step("run ${label}" ${ARG_RUN})
endfunction()

# The consumer asks for the core component only: every third-party package the other components
# need is disabled, so the configure step fails if the package config looks any of them up.
set(disabled "")
foreach(pkg simdjson PostgreSQL SQLite3 CURL PkgConfig yaml-cpp spdlog)
  list(APPEND disabled "-DCMAKE_DISABLE_FIND_PACKAGE_${pkg}=ON")
endforeach()
consumer("consumer" "${CONSUMER_DIR}" "${consumer_build}"
         CONFIGURE ${disabled} RUN "${consumer_build}/scopeflow_consumer")

# The service component: a program that runs a pipeline file through scopeflow::service.
if(SERVICE_CONSUMER_DIR)
  set(service_build "${WORK_DIR}/service-build")
  consumer("service consumer" "${SERVICE_CONSUMER_DIR}" "${service_build}"
           RUN "${service_build}/scopeflow_service_consumer"
               "${SERVICE_CONSUMER_DIR}/pipeline.yaml")
endif()

message(STATUS "install_consumer: passed")
