// Release commands of the control socket: release-compute, release-list, release-show,
// release-approve and release-reject (docs/formats/control.md). Approval and rejection name the
// reviewer and carry a comment; both, and every other transition, are audited by the book.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "aggregate/release.h"
#include "daemon/control_server.h"
#include "ingest/objection_register.h"

namespace eds::daemon {

struct ReleaseContext {
  aggregate::ReleaseBook* book = nullptr;  // must outlive the call
  // The enabled packs as they were when the request came (an update may replace them meanwhile).
  std::shared_ptr<const std::vector<aggregate::MeasurePack>> packs;
  ingest::ObjectionRegister* objections = nullptr;
  storage::Store* store = nullptr;
  aggregate::ReleaseOptions options;
};

// nullopt when `cmd` is not a release command.
std::optional<nlohmann::json> HandleReleaseCommand(ReleaseContext& ctx, const std::string& cmd,
                                                   const nlohmann::json& request,
                                                   const std::string& actor);

// Every *.json file of `dir` as a measure pack; a bad one is logged (naming the file, measure and
// field) and left out, so one bad file does not stop the box.
std::vector<aggregate::MeasurePack> LoadPacks(const std::string& dir);

}  // namespace eds::daemon
