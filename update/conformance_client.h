// The client side of the TUF conformance suite's protocol, over TufClient:
//   --metadata-dir DIR init TRUSTED_ROOT_FILE
//   --metadata-dir DIR --metadata-url URL refresh
//   --metadata-dir DIR --metadata-url URL --target-name NAME [--target-name NAME ...]
//     --target-base-url URL --target-dir DIR download
// Trusted metadata is kept as DIR/<role>.json; targets as TARGET_DIR/<percent-encoded name>,
// and a target whose file there still matches its hashes is not fetched again.
// Returns the process exit code: 0 on success, 1 on any failure (explained on stderr).
#pragma once

#include <string>
#include <vector>

namespace eds::update {

int RunConformanceClient(const std::vector<std::string>& args);

}  // namespace eds::update
