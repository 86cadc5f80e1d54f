// MetadataStore: where the client keeps the last trusted metadata between runs, by role name
// ("root", "timestamp", "snapshot", "targets", delegated role names). Values are the files' bytes
// exactly as fetched. Get returns kNotFound for a role never stored. Put must be atomic: after a
// crash a role holds either its old or its new bytes.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::update {

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual Result<std::string> Get(std::string_view role) = 0;
  virtual Status Put(std::string_view role, std::string_view bytes) = 0;
  virtual Status Delete(std::string_view role) = 0;
};

// Files DIR/<role>.json (the role name percent-encoded), written with fsync + rename.
class DirectoryMetadataStore final : public MetadataStore {
 public:
  explicit DirectoryMetadataStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<std::string> Get(std::string_view role) override;
  Status Put(std::string_view role, std::string_view bytes) override;
  Status Delete(std::string_view role) override;

 private:
  std::filesystem::path dir_;
};

// Kept in memory only; for tests and for a one-shot verification that persists nothing.
class MemoryMetadataStore final : public MetadataStore {
 public:
  Result<std::string> Get(std::string_view role) override;
  Status Put(std::string_view role, std::string_view bytes) override;
  Status Delete(std::string_view role) override;

 private:
  std::map<std::string, std::string, std::less<>> files_;
};

}  // namespace eds::update
