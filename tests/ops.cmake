# ops tests: every operation of spec/ops.toml, success and error paths,
# through both API styles (evaio_OP wrappers and evaio_OP_init + evaio_start).
evaio_test(test_ops_fd LABELS ops)     # open close read write fstat fsync
evaio_test(test_ops_path LABELS ops)   # stat lstat unlink mkdir rmdir rename readdir
evaio_test(test_ops_path2 LABELS ops)  # openat2 statx statvfs truncate chmod chown lchown utime lutime mknod access
evaio_test(test_ops_path3 LABELS ops)  # link symlink readlink realpath rename2 mkdtemp mkstemp
evaio_test(test_ops_misc LABELS ops)   # nop busy custom
evaio_test(test_ops_wd LABELS ops)     # wd_open wd_close, the _at forms, evaio_req_set_wd
evaio_test(test_ops_fd2 LABELS ops)    # dup2 dup3 seek readv writev sendfile copy_file_range fcntl ioctl flock
evaio_test(test_ops_fd3 LABELS ops)    # readahead fadvise fallocate ftruncate fstatvfs fchmod fchown futime fdatasync syncfs sync_file_range fiemap
evaio_test(test_ops_xattr LABELS ops LIBS ${CMAKE_DL_LIBS})  # getxattr setxattr listxattr removexattr, l- and f- forms
evaio_test(test_ops_dir LABELS ops LIBS ${CMAKE_DL_LIBS}) # readdir's flags; opendir readdir_batch closedir
evaio_test(test_ops_mem LABELS ops)    # msync mtouch mlock mlockall madvise; sync slurp
# test_ops_dir defines syscall() to hold a batch inside getdents64: exported,
# so that the shared library's calls reach it.
set_target_properties(test_ops_dir PROPERTIES ENABLE_EXPORTS ON)
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
evaio_test(test_ops_rmtree LABELS ops)  # rmtree: symlinks never followed, limit, cancel, wd
evaio_test(test_ops_scandir LABELS ops LIBS ${CMAKE_DL_LIBS})  # scandir: no stat for known types, link-count stop, maxreq
set_target_properties(test_ops_scandir PROPERTIES ENABLE_EXPORTS ON)  # its readdir and fstatat interpose

# Bad input for every op: generated from the spec (gen/templates/test_bad_input.c.j2),
# so a new op is covered without an edit here.
evaio_test(test_bad_input SOURCES ${PROJECT_SOURCE_DIR}/generated/tests/test_bad_input.c LABELS ops bad_input)
target_include_directories(test_bad_input PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
evaio_test(test_ops_midcancel LABELS ops LIBS ${CMAKE_DL_LIBS})  # mkpath, pathsync cancelled between steps
set_target_properties(test_ops_midcancel PROPERTIES ENABLE_EXPORTS ON)  # its mkdirat and fsync interpose
target_link_libraries(test_ops_midcancel PRIVATE Threads::Threads)
