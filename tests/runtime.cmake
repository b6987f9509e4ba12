# Runtime tests: one program per hand-written runtime feature.  Each uses its
# own contexts (evaio_ctx_new) wherever it changes settings, so none depends on
# the defaults.
evaio_test(test_priorities LABELS runtime)  # -4..4, FIFO per level, clamping, delivery order
evaio_test(test_poll_limits LABELS runtime) # max_poll_reqs, max_poll_time, callback stop, 0 vs EAGAIN
evaio_test(test_hooks LABELS runtime)       # want_poll/done_poll, the poll fd, event loops
evaio_test(test_threads LABELS runtime)     # max/min_parallel, reaping, counters, signal mask
evaio_test(test_mt_submit LABELS runtime)   # 4 submitters, 1 poller, 80000 requests
evaio_test(test_contexts LABELS runtime)    # isolation, ctx_free rules
evaio_test(test_reuse LABELS runtime)       # caller-owned reuse, restart in callback, EBUSY
evaio_test(test_wait LABELS runtime)        # evaio_wait
evaio_test(test_wake_cost LABELS runtime LIBS ${CMAKE_DL_LIBS})   # no wake-up per request when busy
evaio_test(test_create_fail LABELS runtime LIBS ${CMAKE_DL_LIBS}) # no worker can start: clean refusal
evaio_test(test_cancel LABELS runtime)      # not started / executing / waiting, errors, cross-thread
evaio_test(test_groups LABELS runtime)      # order, nesting, add errors, feeders, group cancel
evaio_test(test_nowait LABELS runtime)      # nop and cached reads completed on the submitting thread
evaio_test(test_nowait_stat LABELS runtime) # stat, lstat, fstat completed on the submitting thread
foreach(t test_priorities test_poll_limits test_hooks test_threads test_mt_submit test_contexts
          test_reuse test_wait test_wake_cost test_create_fail test_cancel test_groups test_nowait
          test_nowait_stat)
  target_link_libraries(${t} PRIVATE Threads::Threads)
endforeach()

# The public header on its own: strict C11, and C++.
evaio_test(header_c SOURCES header_c.c LABELS runtime header)
set_target_properties(header_c PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
target_compile_options(header_c PRIVATE -pedantic -Werror)

include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  evaio_test(header_cxx SOURCES header_cxx.cpp LABELS runtime header)
  set_target_properties(header_cxx PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_compile_options(header_cxx PRIVATE -Werror)
else()
  message(STATUS "evaio: no C++ compiler found; the header_cxx test is not built")
endif()
evaio_test(test_fork LABELS runtime)         # fork: an empty, working library in the child
target_link_libraries(test_fork PRIVATE Threads::Threads)
# ThreadSanitizer refuses threads started in the child of a multi-threaded
# fork unless told otherwise; the child here is exactly that case.
set_tests_properties(test_fork PROPERTIES ENVIRONMENT
  "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0")
evaio_test(test_shutdown LABELS runtime)     # evaio_ctx_free with work outstanding
target_link_libraries(test_shutdown PRIVATE Threads::Threads)
# test_unload loads the shared library itself (dlopen), so it does not link it.
add_executable(test_unload test_unload.c)
target_link_libraries(test_unload PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
add_test(NAME test_unload COMMAND test_unload $<TARGET_FILE:evaio>)
set_tests_properties(test_unload PROPERTIES TIMEOUT 120 LABELS "core;runtime" ENVIRONMENT
  "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:die_after_fork=0")
# test_faults runs against the fault-injection build of the library.
add_executable(test_faults test_faults.c)
target_link_libraries(test_faults PRIVATE evaio_fault)
target_compile_options(test_faults PRIVATE -Wall -Wextra)
add_test(NAME test_faults COMMAND test_faults)
set_tests_properties(test_faults PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "core;runtime")
evaio_test(test_signals LABELS runtime)      # a SIGALRM storm at the polling thread
target_link_libraries(test_signals PRIVATE Threads::Threads)

# Reliability.  The stress test runs a CI-sized load by default (fewer
# requests under sanitizers); EVAIO_STRESS_N=1000000 is the full size.
evaio_test(test_stress LABELS stress TIMEOUT 900)
target_link_libraries(test_stress PRIVATE Threads::Threads)

# The model-based differential test: a short fixed-seed run here;
# EVAIO_MODEL_SEQS and EVAIO_MODEL_SEED for the long one.
evaio_test(test_model LABELS model TIMEOUT 900)
