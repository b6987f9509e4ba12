# gen tests: the generator (gen/evaio_gen.py) and what it produced.
#
#   gen_check   `python3 gen/evaio_gen.py --check` from the source folder: the
#               committed generated/ is what spec/ops.toml and the templates give.
#   gen_golden  gen/tests/test_gen.py (stdlib unittest): golden fixtures, bad
#               specs and their error lines, determinism, the banner,
#               write-only-when-changed and --check's reports.
#
# Both need Python >= 3.11 (tomllib) with jinja2.  gen/tests/run_or_skip.py
# runs them with the interpreter CMake found and turns a missing jinja2 into a
# skip (77), or into a failure under EVAIO_TEST_NO_SKIP=1 (CI).  Without any
# such Python the tests are still registered, as a skip that fails under
# EVAIO_TEST_NO_SKIP=1, so CI cannot lose them silently.
find_package(Python3 3.11 COMPONENTS Interpreter)

set(EVAIO_GEN_TESTS gen_check gen_golden)
if(Python3_Interpreter_FOUND)
  set(_run ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/gen/tests/run_or_skip.py)
  add_test(NAME gen_check
    COMMAND ${_run} gen/evaio_gen.py --check
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME gen_golden
    COMMAND ${_run} -m unittest discover -s gen/tests -p test_gen.py -v
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${EVAIO_GEN_TESTS} PROPERTIES
    SKIP_RETURN_CODE 77
    ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)  # keep __pycache__ out of the source tree
  unset(_run)
else()
  message(STATUS "No Python >= 3.11 found: gen_check and gen_golden will skip (and fail under EVAIO_TEST_NO_SKIP=1)")
  foreach(t ${EVAIO_GEN_TESTS})
    add_test(NAME ${t} COMMAND ${CMAKE_COMMAND} -P ${PROJECT_SOURCE_DIR}/gen/tests/no_python.cmake)
    set_tests_properties(${t} PROPERTIES SKIP_REGULAR_EXPRESSION "evaio-test-skipped")
  endforeach()
endif()
set_tests_properties(${EVAIO_GEN_TESTS} PROPERTIES TIMEOUT 300 LABELS "gen")
