# Per-target helpers: warnings and sanitizers are applied to our own targets only, never globally,
# so third-party code (GoogleTest, yaml-cpp, ...) builds with its own flags.

# scopeflow_set_warnings(target): strict warnings, errors on our code.
function(scopeflow_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    # Options structs are filled with designated initializers; omitted fields keep defaults.
    -Wno-missing-field-initializers)
  if(SCOPEFLOW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# scopeflow_enable_sanitizers(target): applies SCOPEFLOW_SANITIZE (e.g. "address,undefined" or
# "thread") to the target's compile and link steps.
function(scopeflow_enable_sanitizers target)
  if(SCOPEFLOW_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${SCOPEFLOW_SANITIZE}
                                             -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${SCOPEFLOW_SANITIZE})
  endif()
  # Fuzzing builds instrument every target for libFuzzer's coverage; only the fuzzers link its
  # main (tests/fuzz/CMakeLists.txt).
  if(SCOPEFLOW_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# scopeflow_target_defaults(target): everything our own targets share.
function(scopeflow_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  scopeflow_set_warnings(${target})
  scopeflow_enable_sanitizers(${target})
endfunction()

# scopeflow_add_library(<layer> COMPONENT <component> SOURCES ... [PUBLIC_DEPS ...]
#                       [PRIVATE_DEPS ...] [HEADERS ...]): one static library per layer of the
# library, scopeflow_<layer> (alias scopeflow::<layer>), built from one folder of src/ whose public
# headers live in the matching folder of include/scopeflow/. HEADERS (paths under
# include/scopeflow/) are compiled on their own by the checkheaders target; COMPONENT names the
# installed package component (and export set) the layer belongs to.
function(scopeflow_add_library layer)
  cmake_parse_arguments(ARG "" "COMPONENT" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS;HEADERS" ${ARGN})
  if(NOT ARG_COMPONENT)
    message(FATAL_ERROR "scopeflow_add_library(${layer}): COMPONENT is required")
  endif()
  set(target scopeflow_${layer})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(scopeflow::${layer} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${layer} OUTPUT_NAME ${target})
  scopeflow_target_defaults(${target})
  set_property(GLOBAL APPEND PROPERTY SCOPEFLOW_PUBLIC_HEADERS ${ARG_HEADERS})
  set_property(GLOBAL APPEND PROPERTY SCOPEFLOW_COMPONENT_${ARG_COMPONENT}_TARGETS ${target})
  set_property(GLOBAL APPEND PROPERTY SCOPEFLOW_LIBRARY_TARGETS ${target})
endfunction()
