# One warning list for the project's own code (tests get a slightly looser set).
set(EDS_COMMON_WARNINGS
    -Wall -Wextra -Werror -Wcast-qual -Wnon-virtual-dtor -Wmissing-declarations -Wvla
    -Wshadow -Wformat=2 -Wundef -Wpointer-arith)
# GCC 12 at -O3 reports std::string copies as overlapping (GCC bug 105329): a false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND EDS_COMMON_WARNINGS -Wno-restrict)
endif()
set(EDS_DEFAULT_COPTS ${EDS_COMMON_WARNINGS} -Wconversion -Wsign-conversion)
set(EDS_TEST_COPTS ${EDS_COMMON_WARNINGS} -Wno-missing-declarations)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND EDS_DEFAULT_COPTS -Wthread-safety)
endif()
