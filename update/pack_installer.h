// Activates measure packs delivered by an update: the pack is parsed (a malformed pack is never
// activated) and atomically renamed into the packs directory as <pack id>.json. A version lower
// than the active one is refused; the same version again changes nothing.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::update {

struct PackActivation {
  std::string pack_id;
  std::string version;
  bool changed = false;  // false when this version was already active
};

// kInvalidArgument for a malformed pack, kFailedPrecondition for a lower version.
Result<PackActivation> ActivatePack(const std::filesystem::path& packs_dir,
                                    std::string_view pack_json);

}  // namespace eds::update
