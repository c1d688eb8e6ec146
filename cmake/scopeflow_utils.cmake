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
