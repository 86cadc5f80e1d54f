// StoreMetadataStore: the daemon's trusted TUF metadata, kept in the box's store (encrypted like
// everything else, each Put one durable, audited write), so it survives restarts and goes with
// backups.
#pragma once

#include "storage/store.h"
#include "update/metadata_store.h"

namespace eds::update {

class StoreMetadataStore final : public MetadataStore {
 public:
  explicit StoreMetadataStore(storage::Store& store) : store_(store) {}
  Result<std::string> Get(std::string_view role) override;
  Status Put(std::string_view role, std::string_view bytes) override;
  // The store keeps no tombstones for system records: a deleted role is stored empty.
  Status Delete(std::string_view role) override;

 private:
  storage::Store& store_;
};

}  // namespace eds::update
