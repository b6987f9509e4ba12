# Resource hygiene: descriptors never leak across exec.
evaio_test(test_cloexec LABELS hygiene)   # every kind of descriptor the library makes, lasting or transient
target_link_libraries(test_cloexec PRIVATE Threads::Threads)
