// Small durable-file helpers the update module shares: whole-file reads, atomic replacement
// (write a temporary, fsync, rename, fsync the directory) and percent-encoding of names.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::update {

// kNotFound when the file does not exist, kUnavailable on other read errors.
Result<std::string> ReadFile(const std::filesystem::path& path);
// Replaces `path` with `bytes` so that a crash leaves either the old or the new content.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes);
// Flushes a directory's entries (after a rename or an unlink).
Status SyncDirectory(const std::filesystem::path& dir);
// Percent-encodes every byte outside [A-Za-z0-9._~-] ("/" too), so any name is one file name.
std::string EncodeFileName(std::string_view name);

}  // namespace eds::update
