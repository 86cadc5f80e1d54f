# FHIR R4 reader: included from ingest/CMakeLists.txt, so paths are made absolute from this
# file's own directory (CMAKE_CURRENT_SOURCE_DIR would be ingest/).
list(APPEND EDS_INGEST_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/bundle_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/operation_outcome.cc
  ${CMAKE_CURRENT_LIST_DIR}/reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/resource_types.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/extract.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/issue_sink.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/json_error.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/primitives.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/read_common.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/references.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/schema_datatypes.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/schema_medication.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/schema_resources.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/validator.cc)
