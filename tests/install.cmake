# The library as users see it: the example program, the exported ABI and the
# installed package.  Included from tests/CMakeLists.txt.

# treewalk_counts: examples/treewalk on a known tree, checked against nftw(3).
if(TARGET treewalk)
  add_executable(treewalk_test treewalk_test.c)
  target_link_libraries(treewalk_test PRIVATE evaio::evaio)
  target_compile_definitions(treewalk_test PRIVATE EVAIO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_compile_options(treewalk_test PRIVATE -Wall -Wextra)
  add_test(NAME treewalk_counts COMMAND treewalk_test $<TARGET_FILE:treewalk>)
  set_tests_properties(treewalk_counts PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 120 LABELS "core;examples")
endif()

# symbols: libevaio.so exports exactly the EVAIO_API functions of the public
# headers.  Runs in every build, sanitizers included.
find_package(Python3 COMPONENTS Interpreter)
if(CMAKE_NM)
  set(evaio_nm ${CMAKE_NM})
else()
  set(evaio_nm nm)
endif()
if(Python3_Interpreter_FOUND)
  add_test(NAME symbols COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/symbols_test.py
    ${evaio_nm} $<TARGET_FILE:evaio>
    ${PROJECT_SOURCE_DIR}/runtime/include/evaio.h
    ${PROJECT_SOURCE_DIR}/generated/include/evaio/op_api.h)
else()
  # Same rule as the other tests: skip for a missing tool, fail in CI.
  add_test(NAME symbols COMMAND sh -c
    "echo 'skipped: python3 not found'; [ \"$EVAIO_TEST_NO_SKIP\" = 1 ] && exit 1; exit 77")
endif()
set_tests_properties(symbols PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS "core;abi")

# install_consumers: cmake --install into a temporary prefix, then build and
# run tests/consumer against it with pkg-config and with find_package.
# Labelled "install" so the sanitizer presets can leave it out.
add_test(NAME install_consumers
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh
    ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} $<CONFIG>)
set_tests_properties(install_consumers PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "install"
  ENVIRONMENT "CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER};CFLAGS=${CMAKE_C_FLAGS};CMAKE_GENERATOR=${CMAKE_GENERATOR};EVAIO_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM};EVAIO_VERSION=${PROJECT_VERSION};NM=${evaio_nm}")

# The C examples in README.md compile against the real header.
add_test(NAME readme_snippets
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_snippets.sh ${CMAKE_C_COMPILER}
          ${PROJECT_SOURCE_DIR}/README.md
          ${PROJECT_SOURCE_DIR}/runtime/include ${PROJECT_SOURCE_DIR}/generated/include)
set_tests_properties(readme_snippets PROPERTIES LABELS "core;docs")
add_test(NAME groups_doc_snippets
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_snippets.sh ${CMAKE_C_COMPILER}
          ${PROJECT_SOURCE_DIR}/docs/groups.md
          ${PROJECT_SOURCE_DIR}/runtime/include ${PROJECT_SOURCE_DIR}/generated/include)
set_tests_properties(groups_doc_snippets PROPERTIES LABELS "core;docs")
