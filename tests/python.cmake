# Python binding tests (bindings/python, tests/python; stdlib unittest).
#
#   python_layout    the ctypes mirrors against the C compiler: sizeof and
#                    offsetof of evaio_req, every struct evaio_OP_args and
#                    the system structs; evaio.h's constants
#   python_ops       every op of the spec through both layers (cases made
#                    from the table), and the main families against os
#   python_callback  contexts, poll, limits, cancel, groups, handles
#   python_aio       asyncio: errors, cancellation, 5000 awaits, a timer
#                    ticking through 100k stats, fd leaks, loops
#   python_docs      the ```python blocks of README.md and docs/bindings.md run
#   python_install   EVAIO_LIBRARY, the build tree's copy, cmake --install,
#                    pip install into a venv (offline)
#
# They run with the interpreter CMake finds, the source package on
# PYTHONPATH and this build's library in EVAIO_LIBRARY.  Without Python
# they are registered as skips that fail under EVAIO_TEST_NO_SKIP=1 (CI).
# Labelled "python": the sanitizer presets leave them out, since an
# instrumented libevaio cannot be loaded into an uninstrumented python.
find_package(Python3 3.8 COMPONENTS Interpreter)

set(EVAIO_PY_TESTS python_layout python_ops python_callback python_aio python_docs python_install)
if(Python3_Interpreter_FOUND)
  set(_pydir ${CMAKE_CURRENT_SOURCE_DIR}/python)
  foreach(t layout ops callback aio docs)
    add_test(NAME python_${t}
      COMMAND ${Python3_EXECUTABLE} -m unittest -v test_${t}
      WORKING_DIRECTORY ${_pydir})
  endforeach()
  add_test(NAME python_install
    COMMAND ${Python3_EXECUTABLE} ${_pydir}/install_test.py ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
            ${CMAKE_COMMAND}
    WORKING_DIRECTORY ${_pydir})
  set_tests_properties(${EVAIO_PY_TESTS} PROPERTIES
    SKIP_RETURN_CODE 77
    ENVIRONMENT "EVAIO_LIBRARY=$<TARGET_FILE:evaio>;PYTHONPATH=${PROJECT_SOURCE_DIR}/bindings/python;PYTHONDONTWRITEBYTECODE=1;EVAIO_CC=${CMAKE_C_COMPILER};EVAIO_INCLUDE=${PROJECT_SOURCE_DIR}/runtime/include:${PROJECT_SOURCE_DIR}/generated/include")
  unset(_pydir)
else()
  message(STATUS "No Python 3 found: the python_* tests will skip (and fail under EVAIO_TEST_NO_SKIP=1)")
  foreach(t ${EVAIO_PY_TESTS})
    add_test(NAME ${t} COMMAND sh -c
      "echo 'skipped: no Python 3 interpreter'; [ \"$EVAIO_TEST_NO_SKIP\" = 1 ] && exit 1; exit 77")
    set_tests_properties(${t} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endif()
set_tests_properties(${EVAIO_PY_TESTS} PROPERTIES TIMEOUT 600 LABELS "python")
set_tests_properties(python_install PROPERTIES LABELS "python;install")
