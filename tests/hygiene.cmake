# Resource hygiene: descriptors never leak across exec.
evaio_test(test_cloexec LABELS hygiene)   # every kind of descriptor the library makes, lasting or transient
target_link_libraries(test_cloexec PRIVATE Threads::Threads)

# valgrind: memcheck over the core test programs (tests/valgrind.sh): no
# memory error, no definitely lost block, no descriptor left open at exit.
# Only in a build without sanitizers, whose programs valgrind cannot run;
# the asan and tsan test presets also exclude the label.  Skips (77)
# without valgrind, except under EVAIO_TEST_NO_SKIP=1.  Left out:
#   test_cancel    races cancels against running workers in timed loops;
#                  valgrind runs one thread at a time, which takes it past 90 s
#   test_ops_mem   finds its mappings in /proc/self/smaps, which valgrind's
#                  address-space manager lays out otherwise
#   test_ops_composite  its "copy cancelled while it runs" case needs a copy
#                  that outlasts the cancel (up to 512 MiB), which valgrind's
#                  slowness makes unreliable; test_bad_input still runs copy,
#                  move, pathsync and mkpath under valgrind
set(EVAIO_VALGRIND_TESTS
  test_ops_fd test_ops_path test_ops_path2 test_ops_path3 test_ops_misc test_ops_wd test_ops_fd2
  test_ops_fd3 test_ops_xattr test_ops_dir test_ops_rmtree test_ops_scandir
  test_bad_input
  test_priorities test_poll_limits test_hooks test_threads test_mt_submit test_contexts test_reuse
  test_wait test_wake_cost test_create_fail test_groups test_nowait test_nowait_stat
  test_cloexec)
if(NOT CMAKE_C_FLAGS MATCHES "-fsanitize")
  set(_programs)
  foreach(t ${EVAIO_VALGRIND_TESTS})
    list(APPEND _programs $<TARGET_FILE:${t}>)
  endforeach()
  add_test(NAME valgrind COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/valgrind.sh ${_programs})
  set_tests_properties(valgrind PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 LABELS "valgrind")
  unset(_programs)
endif()
