// FileFetcher: a Fetcher over local files; a URL is a path, optionally prefixed with "file://".
// For repositories copied onto the box by hand and for tests. Same errors as any Fetcher.
#pragma once

#include "update/fetcher.h"

namespace eds::update {

class FileFetcher final : public Fetcher {
 public:
  Result<std::string> Fetch(std::string_view url, uint64_t max_length) override;
};

}  // namespace eds::update
