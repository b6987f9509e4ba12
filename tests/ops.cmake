# ops tests: every operation of spec/ops.toml, success and error paths,
# through both API styles (evaio_OP wrappers and evaio_OP_init + evaio_start).
evaio_test(test_ops_fd LABELS ops)     # open close read write fstat fsync
evaio_test(test_ops_path LABELS ops)   # stat lstat unlink mkdir rmdir rename readdir
evaio_test(test_ops_misc LABELS ops)   # nop busy custom
evaio_test(test_ops_wd LABELS ops)     # wd_open wd_close, the _at forms, evaio_req_set_wd
evaio_test(test_ops_composite LABELS ops TIMEOUT 600) # copy move pathsync mkpath

# Every op in the spec must have a test: spec_coverage.py fails listing the
# ops that no tests/test_ops_*.c calls as evaio_NAME( or evaio_NAME_init(.
# It needs tomllib (Python 3.11+); with an older Python it skips (77).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME ops_spec_coverage
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/spec_coverage.py
      --spec ${PROJECT_SOURCE_DIR}/spec/ops.toml --tests ${CMAKE_CURRENT_SOURCE_DIR})
  add_test(NAME ops_spec_coverage_selftest
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/spec_coverage.py --self-test)
  set_tests_properties(ops_spec_coverage ops_spec_coverage_selftest PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS "core;ops")
else()
  message(STATUS "evaio: no Python 3 interpreter found; the spec coverage test (ops_spec_coverage) is not registered")
endif()
