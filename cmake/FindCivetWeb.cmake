# Debian 12's civetweb CMake config names /usr/bin/civetweb (another package), so find the
# library and header directly. Defines CivetWeb::CivetWeb.
find_path(CIVETWEB_INCLUDE_DIR civetweb.h)
find_library(CIVETWEB_LIBRARY civetweb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CivetWeb REQUIRED_VARS CIVETWEB_LIBRARY CIVETWEB_INCLUDE_DIR)
if(CivetWeb_FOUND AND NOT TARGET CivetWeb::CivetWeb)
  add_library(CivetWeb::CivetWeb UNKNOWN IMPORTED)
  set_target_properties(CivetWeb::CivetWeb PROPERTIES
    IMPORTED_LOCATION "${CIVETWEB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CIVETWEB_INCLUDE_DIR}")
endif()
