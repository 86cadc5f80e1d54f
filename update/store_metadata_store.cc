#include "update/store_metadata_store.h"

#include "common/status_macros.h"

namespace eds::update {
namespace {

std::string RecordId(std::string_view role) { return "tuf/" + std::string(role); }

}  // namespace

Result<std::string> StoreMetadataStore::Get(std::string_view role) {
  EDS_ASSIGN_OR_RETURN(bool exists, store_.Exists("", RecordId(role)));
  if (!exists) return NotFoundError("no trusted " + std::string(role) + " metadata");
  EDS_ASSIGN_OR_RETURN(std::string bytes,
                       store_.Read("", RecordId(role), {"update", "tuf.read", "", ""}));
  if (bytes.empty()) return NotFoundError("no trusted " + std::string(role) + " metadata");
  return bytes;
}

Status StoreMetadataStore::Put(std::string_view role, std::string_view bytes) {
  return store_.Write({{"", RecordId(role), std::string(bytes)}},
                      {"update", "tuf.trust", std::string(role), ""});
}

Status StoreMetadataStore::Delete(std::string_view role) {
  return store_.Write({{"", RecordId(role), ""}}, {"update", "tuf.forget", std::string(role), ""});
}

}  // namespace eds::update
