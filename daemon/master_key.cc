#include "daemon/master_key.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/log.h"
#include "common/status_macros.h"

namespace eds::daemon {
namespace {

storage::MasterKeySource Source(const StorageConfig& c) {
  return {c.master_key_credential, c.master_key_file, c.create_master_key_file};
}

bool UsingCredential(const StorageConfig& c) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  std::error_code ec;
  return dir != nullptr && *dir != '\0' &&
         std::filesystem::exists(std::string(dir) + "/" + c.master_key_credential, ec);
}

}  // namespace

Result<storage::SecretKey> LoadStoreMasterKey(const StorageConfig& config) {
  EDS_ASSIGN_OR_RETURN(storage::LoadedMasterKey loaded, storage::LoadMasterKey(Source(config)));
  LogInfo("master key loaded from " + loaded.origin);
  return std::move(loaded.key);
}

Result<std::unique_ptr<storage::Store>> OpenStoreFinishingRotation(
    const StorageConfig& config, const storage::StoreOptions& options, storage::SecretKey key) {
  auto store = storage::Store::Open(options, std::move(key));
  if (store.ok() || store.status().code() != StatusCode::kFailedPrecondition ||
      config.master_key_file.empty() || UsingCredential(config)) {
    return store;
  }
  // A rotation may have re-wrapped the keys and stopped before renaming the new key file.
  const std::string pending = config.master_key_file + ".new";
  auto new_key = storage::ReadKeyFile(pending);
  if (!new_key.ok()) return store;
  auto retried = storage::Store::Open(options, std::move(new_key).value());
  if (!retried.ok()) return store;
  if (std::rename(pending.c_str(), config.master_key_file.c_str()) != 0) {
    return InternalError("cannot finish the master key rotation: rename " + pending + " failed");
  }
  LogWarning("finished an interrupted master key rotation");
  return retried;
}

Result<std::string> RotateMasterKey(const StorageConfig& config, storage::Store& store,
                                    const std::string& new_key_file,
                                    const storage::AuditEvent& event) {
  if (UsingCredential(config)) {
    if (new_key_file.empty()) {
      return InvalidArgumentError(
          "the master key is a systemd credential: give the new key with --new-key-file");
    }
    EDS_ASSIGN_OR_RETURN(storage::SecretKey key, storage::ReadKeyFile(new_key_file));
    EDS_RETURN_IF_ERROR(store.RotateMasterKey(std::move(key), event));
    return "keys re-wrapped; seal " + new_key_file + " as credential '" +
           config.master_key_credential + "' (systemd-creds encrypt) before the next start, " +
           "then delete the file";
  }
  if (config.master_key_file.empty())
    return FailedPreconditionError("no master key file is configured");
  storage::SecretKey key = storage::SecretKey::Random();
  if (!new_key_file.empty()) {
    EDS_ASSIGN_OR_RETURN(key, storage::ReadKeyFile(new_key_file));
  }
  const std::string pending = config.master_key_file + ".new";
  EDS_RETURN_IF_ERROR(storage::WriteKeyFile(pending, key));
  Status s = store.RotateMasterKey(std::move(key), event);
  if (!s.ok()) {
    std::remove(pending.c_str());
    return s;
  }
  if (std::rename(pending.c_str(), config.master_key_file.c_str()) != 0) {
    return InternalError("keys re-wrapped but " + pending + " could not replace " +
                         config.master_key_file + "; the next start finishes it");
  }
  return "keys re-wrapped; the new key is in " + config.master_key_file;
}

}  // namespace eds::daemon
