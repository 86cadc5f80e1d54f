# HL7 v2 message model, parser and ACKs (namespace eds::ingest::hl7), part of eds::ingest.
# Included from ingest/CMakeLists.txt, so CMAKE_CURRENT_LIST_DIR is this folder.
list(APPEND EDS_INGEST_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/ack.cc
  ${CMAKE_CURRENT_LIST_DIR}/error.cc
  ${CMAKE_CURRENT_LIST_DIR}/message.cc
  ${CMAKE_CURRENT_LIST_DIR}/parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/envelope.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/text_codec.cc)
