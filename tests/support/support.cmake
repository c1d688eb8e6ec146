# scopeflow_test_support: what the tests share (tests/support/): the test Source, TempDir, the
# leak check, eventually(), Probe and LambdaStage. Header-only; every test binary links it. It
# does not link scopeflow::core itself: plugin_test links the core as a whole archive, which
# CMake refuses to mix with an ordinary link of the same library.
add_library(scopeflow_test_support INTERFACE)
target_include_directories(scopeflow_test_support INTERFACE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(scopeflow_test_support INTERFACE GTest::gtest)
