# The event-loop examples (examples/loops/), run as tests.  For each tie:
#   loops_TIE_work            the example's work: a file read and a directory
#                             lstat-ed through evaio, checked against
#                             synchronous calls;
#   loops_TIE_flood           100,000 results delivered while a 10 ms timer
#                             on the same loop must keep ticking (no gap of
#                             1 s or half the delivery);
#   loops_TIE_flood_nolimits  the control: the same without poll limits must
#                             starve the timer, or the test above proves
#                             nothing.
# A tie whose library was not found runs loops_missing instead: skipped,
# or failed under EVAIO_TEST_NO_SKIP=1 (CI).
if(NOT EVAIO_BUILD_EXAMPLES)
  return()
endif()

add_executable(loops_missing loops_missing.c)
target_link_libraries(loops_missing PRIVATE evaio::evaio)
target_compile_options(loops_missing PRIVATE -Wall -Wextra)

function(evaio_loop_test name target library)
  if(TARGET ${target})
    add_test(NAME ${name} COMMAND ${target} ${ARGN})
  else()
    add_test(NAME ${name} COMMAND loops_missing ${library})
  endif()
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "loops;examples")
endfunction()

# evaio_loop_tests(TIE TARGET LIBRARY [OPTION...]): the three tests of a tie.
function(evaio_loop_tests tie target library)
  evaio_loop_test(loops_${tie}_work ${target} ${library} ${ARGN}
    ${PROJECT_SOURCE_DIR}/spec/ops.toml ${PROJECT_SOURCE_DIR}/runtime)
  evaio_loop_test(loops_${tie}_flood ${target} ${library} ${ARGN} --flood 100000)
  evaio_loop_test(loops_${tie}_flood_nolimits ${target} ${library} ${ARGN} --flood 100000 --no-limits)
endfunction()

evaio_loop_tests(poll loop_poll "poll(2)")
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  evaio_loop_tests(epoll loop_epoll "epoll")
endif()
evaio_loop_tests(libev_io loop_libev "libev")
evaio_loop_tests(libev_hook loop_libev "libev" --hook)
evaio_loop_tests(libuv loop_libuv "libuv")
evaio_loop_tests(glib loop_glib "GLib")
evaio_loop_tests(libevent loop_libevent "libevent")
