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
foreach(t test_priorities test_poll_limits test_hooks test_threads test_mt_submit test_contexts
          test_reuse test_wait test_wake_cost test_create_fail test_cancel test_groups)
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

# Reliability.  The stress test runs a CI-sized load by default (fewer
# requests under sanitizers); EVAIO_STRESS_N=1000000 is the full size.
evaio_test(test_stress LABELS stress TIMEOUT 900)
target_link_libraries(test_stress PRIVATE Threads::Threads)

# The model-based differential test: a short fixed-seed run here;
# EVAIO_MODEL_SEQS and EVAIO_MODEL_SEED for the long one.
evaio_test(test_model LABELS model TIMEOUT 900)
