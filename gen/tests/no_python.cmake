# Stands in for the gen tests (tests/gen.cmake) when CMake found no Python >=
# 3.11: reports a skip, which ctest recognises by the word below in the
# output, or fails under EVAIO_TEST_NO_SKIP=1 so that CI never loses the tests.
#   cmake -P gen/tests/no_python.cmake
set(_no_skip "$ENV{EVAIO_TEST_NO_SKIP}")
if(NOT _no_skip STREQUAL "" AND NOT _no_skip STREQUAL "0")
  message(FATAL_ERROR "FAIL: no Python >= 3.11 was found when CMake configured the build; "
    "install python3 (>= 3.11) and python3-jinja2, then re-run cmake")
endif()
message("evaio-test-skipped: no Python >= 3.11 was found when CMake configured the build "
  "(install python3 >= 3.11 and python3-jinja2, then re-run cmake)")
