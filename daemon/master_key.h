// The daemon's side of the master key: where it comes from (systemd credential or dev key file),
// rotation that survives a crash at any point, and opening the store with it.
// Rotation with a key file: the new key is written to "<file>.new" (fsynced) before the store
// re-wraps its keys, then renamed over the file; a start that finds the store already re-wrapped
// under "<file>.new" finishes the rename. With a credential the operator supplies the new key and
// re-seals it (systemd-creds encrypt) afterwards.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "daemon/config.h"
#include "storage/secret_key.h"
#include "storage/store.h"

namespace eds::daemon {

Result<storage::SecretKey> LoadStoreMasterKey(const StorageConfig& config);

Result<std::unique_ptr<storage::Store>> OpenStoreFinishingRotation(
    const StorageConfig& config, const storage::StoreOptions& options, storage::SecretKey key);

// Rotates the store's master key. `new_key_file` (may be empty with a dev key file, then a key
// is generated) holds the new key. Returns a human-readable note on what the operator must do.
Result<std::string> RotateMasterKey(const StorageConfig& config, storage::Store& store,
                                    const std::string& new_key_file,
                                    const storage::AuditEvent& event);

}  // namespace eds::daemon
