# tools: evaio-du against du and find on a generated tree.
if(TARGET evaio-du)
  add_test(NAME evaio_du_totals COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/du_test.sh $<TARGET_FILE:evaio-du>)
  set_tests_properties(evaio_du_totals PROPERTIES TIMEOUT 120 LABELS "core;tools")
endif()
