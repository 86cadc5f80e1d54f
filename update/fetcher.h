// Fetcher: where the TUF client gets bytes from. One call per file; the client never asks for
// more than `max_length` bytes and the fetcher must stop reading past it.
// Errors: kNotFound (no such file: the end of the root chain), kUnavailable (retry later: the
// network or the server failed), kResourceExhausted (the file is longer than `max_length`).
// Implementations: HttpFetcher (plain HTTP), BundleFetcher (an offline bundle file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::update {

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<std::string> Fetch(std::string_view url, uint64_t max_length) = 0;
};

}  // namespace eds::update
