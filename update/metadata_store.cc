#include "update/metadata_store.h"

#include <cerrno>
#include <cstring>

#include "update/file_util.h"

namespace eds::update {
namespace {

std::filesystem::path RolePath(const std::filesystem::path& dir, std::string_view role) {
  return dir / (EncodeFileName(role) + ".json");
}

}  // namespace

Result<std::string> DirectoryMetadataStore::Get(std::string_view role) {
  return ReadFile(RolePath(dir_, role));
}

Status DirectoryMetadataStore::Put(std::string_view role, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return UnavailableError("cannot create " + dir_.string() + ": " + ec.message());
  return WriteFileAtomic(RolePath(dir_, role), bytes);
}

Status DirectoryMetadataStore::Delete(std::string_view role) {
  std::error_code ec;
  if (!std::filesystem::remove(RolePath(dir_, role), ec)) {
    if (ec) return UnavailableError("cannot remove metadata for " + std::string(role));
    return OkStatus();
  }
  return SyncDirectory(dir_);
}

Result<std::string> MemoryMetadataStore::Get(std::string_view role) {
  auto it = files_.find(role);
  if (it == files_.end()) return NotFoundError("no stored metadata for " + std::string(role));
  return it->second;
}

Status MemoryMetadataStore::Put(std::string_view role, std::string_view bytes) {
  files_[std::string(role)] = std::string(bytes);
  return OkStatus();
}

Status MemoryMetadataStore::Delete(std::string_view role) {
  auto it = files_.find(role);
  if (it != files_.end()) files_.erase(it);
  return OkStatus();
}

}  // namespace eds::update
