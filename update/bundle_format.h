// Constants of the offline update bundle; docs/formats/update_bundle.md is the specification.
#pragma once

#include <cstdint>
#include <string_view>

namespace eds::update {

inline constexpr std::string_view kBundleMagic = "EDSUPD1\n";
inline constexpr uint32_t kBundleMaxNameLength = 1024;
// Names under which the client looks for repository files inside a bundle.
inline constexpr std::string_view kBundleMetadataPrefix = "metadata/";
inline constexpr std::string_view kBundleTargetsPrefix = "targets/";

}  // namespace eds::update
