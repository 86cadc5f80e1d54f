#include "update/pack_installer.h"

#include "aggregate/measure_pack.h"
#include "common/status_macros.h"
#include "update/file_util.h"
#include "update/version.h"

namespace eds::update {

Result<PackActivation> ActivatePack(const std::filesystem::path& packs_dir,
                                    std::string_view pack_json) {
  EDS_ASSIGN_OR_RETURN(aggregate::MeasurePack pack, aggregate::ParseMeasurePack(pack_json));
  if (pack.id.empty() || pack.id.find('/') != std::string::npos || pack.id.front() == '.') {
    return InvalidArgumentError("measure pack id '" + pack.id + "' cannot name a file");
  }
  PackActivation result{pack.id, pack.version, false};
  const std::filesystem::path path = packs_dir / (pack.id + ".json");
  auto current = ReadFile(path);
  if (current.ok()) {
    auto active = aggregate::ParseMeasurePack(*current);
    if (active.ok()) {
      EDS_ASSIGN_OR_RETURN(int order, CompareVersions(pack.version, active->version));
      if (order < 0) {
        return FailedPreconditionError("refusing measure pack " + pack.id + " " + pack.version +
                                       ": version " + active->version + " is active");
      }
      if (order == 0) return result;
    }
  } else if (current.status().code() != StatusCode::kNotFound) {
    return current.status();
  }
  std::error_code ec;
  std::filesystem::create_directories(packs_dir, ec);
  if (ec) return UnavailableError("cannot create " + packs_dir.string() + ": " + ec.message());
  EDS_RETURN_IF_ERROR(WriteFileAtomic(path, pack_json));
  result.changed = true;
  return result;
}

}  // namespace eds::update
