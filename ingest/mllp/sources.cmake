# MLLP framing and listener; included from ingest/CMakeLists.txt, so paths are absolute.
list(APPEND EDS_INGEST_SRCS
  ${CMAKE_CURRENT_LIST_DIR}/framing.cc
  ${CMAKE_CURRENT_LIST_DIR}/listener.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/connection.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/peer_allow_list.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal/tls_server_context.cc)
