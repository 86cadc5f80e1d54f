# eds_cc_library(NAME n SRCS ... DEPS ...): library eds_n with alias eds::n.
function(eds_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(eds_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(eds::${ARG_NAME} ALIAS eds_${ARG_NAME})
  target_include_directories(eds_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(eds_${ARG_NAME} PRIVATE ${EDS_DEFAULT_COPTS})
  target_link_libraries(eds_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# eds_cc_test(NAME n SRCS ... DEPS ... [LABELS ...] [TIMEOUT s]): a GoogleTest binary run by ctest.
function(eds_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT EDS_BUILD_TESTS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  # The tests' own code unoptimised: the code under test keeps the build's optimisation, and
  # optimising test bodies (macro-heavy, run once) took most of the build's time.
  target_compile_options(${ARG_NAME} PRIVATE ${EDS_TEST_COPTS} -O0)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} eds::testing GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# eds_cc_benchmark(NAME n SRCS ... DEPS ...): built, never run by ctest.
function(eds_cc_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT EDS_BUILD_BENCHMARKS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${EDS_TEST_COPTS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
endfunction()
