#include "update/file_fetcher.h"

#include <filesystem>

#include "update/file_util.h"

namespace eds::update {

Result<std::string> FileFetcher::Fetch(std::string_view url, uint64_t max_length) {
  constexpr std::string_view kScheme = "file://";
  if (url.substr(0, kScheme.size()) == kScheme) url.remove_prefix(kScheme.size());
  const std::filesystem::path path{std::string(url)};
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return NotFoundError("no file " + path.string());
  if (size > max_length) {
    return ResourceExhaustedError(path.string() + " is longer than " + std::to_string(max_length) +
                                  " bytes");
  }
  return ReadFile(path);
}

}  // namespace eds::update
