// Bundle: an offline update, one file holding a TUF repository (the root chain, timestamp,
// snapshot, targets and delegated metadata, and the target files) in the container format of
// docs/formats/update_bundle.md. A bundle is only a source of bytes: the TufClient verifies what
// it reads exactly as it verifies an online repository.
//   BundleFetcher: a Fetcher answering "metadata/<file>" and "targets/<file>" from the bundle.
//   WriteBundle: writes a bundle from files on disk (the signing side).
// Errors: kInvalidArgument for a malformed bundle, kUnavailable for I/O errors.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "update/fetcher.h"

namespace eds::update {

class BundleFetcher final : public Fetcher {
 public:
  // Reads the bundle's index (not its contents) and keeps the file open.
  static Result<std::unique_ptr<BundleFetcher>> Open(const std::filesystem::path& path);
  ~BundleFetcher() override;
  BundleFetcher(const BundleFetcher&) = delete;
  BundleFetcher& operator=(const BundleFetcher&) = delete;

  // `url` is an entry name; kNotFound when the bundle has no such entry.
  Result<std::string> Fetch(std::string_view url, uint64_t max_length) override;
  std::vector<std::string> EntryNames() const;

 private:
  struct Entry {
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  BundleFetcher(std::FILE* file, std::map<std::string, Entry, std::less<>> entries)
      : file_(file), entries_(std::move(entries)) {}

  std::FILE* file_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Entries are (name in the bundle, file to copy in); names must be unique and relative.
Status WriteBundle(const std::filesystem::path& out,
                   const std::vector<std::pair<std::string, std::filesystem::path>>& entries);

}  // namespace eds::update
