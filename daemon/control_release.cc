#include "daemon/control_release.h"

#include <algorithm>
#include <filesystem>

#include "aggregate/release_json.h"
#include "common/log.h"

namespace eds::daemon {
namespace {

using nlohmann::json;

// The objecting patients' store numbers (a patient not stored yet has none).
std::set<uint64_t> Excluded(ReleaseContext& ctx) {
  std::set<uint64_t> out;
  if (ctx.objections == nullptr || ctx.store == nullptr) return out;
  for (const auto& pseudonym : ctx.objections->Pseudonyms()) {
    auto no = ctx.store->PatientNumber(pseudonym);
    if (no.ok()) out.insert(*no);
  }
  return out;
}

}  // namespace

std::vector<aggregate::MeasurePack> LoadPacks(const std::string& dir) {
  std::vector<aggregate::MeasurePack> packs;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  if (ec) {
    LogWarning("no measure packs: cannot read " + dir, {{"EDS_ERROR", ec.message()}});
    return packs;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto pack = aggregate::LoadMeasurePack(f.string());
    if (!pack.ok()) {
      LogError("measure pack refused", {{"EDS_ERROR", pack.status().ToString()}});
      continue;
    }
    LogInfo("measure pack " + pack->id + " " + pack->version + " enabled (" +
            std::to_string(pack->measures.size()) + " measures)");
    packs.push_back(std::move(*pack));
  }
  return packs;
}

std::optional<json> HandleReleaseCommand(ReleaseContext& ctx, const std::string& cmd,
                                         const json& request, const std::string& actor) {
  if (cmd.rfind("release-", 0) != 0) return std::nullopt;
  if (ctx.book == nullptr || ctx.packs == nullptr)
    return ErrorReply(UnavailableError("no release book"));
  if (cmd == "release-compute") {
    auto r = ctx.book->Compute(*ctx.packs, request.value("period", ""), Excluded(ctx), ctx.options,
                               actor);
    if (!r.ok()) return ErrorReply(r.status());
    json out = aggregate::ReleaseSummaryJson(*r);
    out["ok"] = true;
    out["decisions"] = r->decisions.size();
    out["note"] = r->history.back().comment;
    return out;
  }
  if (cmd == "release-list") {
    auto list = ctx.book->List();
    if (!list.ok()) return ErrorReply(list.status());
    json releases = json::array();
    for (const auto& s : *list) {
      releases.push_back(aggregate::ReleaseListEntryJson(s));
    }
    return json{{"ok", true}, {"releases", releases}};
  }
  const std::string id = request.value("id", "");
  if (cmd == "release-show") {
    auto r = ctx.book->Get(id);
    if (!r.ok()) return ErrorReply(r.status());
    json out = aggregate::ReleaseReviewJson(*r);
    out["ok"] = true;
    out["bundle"] = r->bundle;
    return out;
  }
  const std::string reviewer = request.value("reviewer", "");
  const std::string comment = request.value("comment", "");
  // The reviewer is named by the caller, who is the box's operator (root, the daemon's user or
  // control.group); accounts with roles come with the web admin.
  const std::string who = reviewer.empty() ? "" : reviewer + " (" + actor + ")";
  Status s;
  if (cmd == "release-approve") {
    s = ctx.book->Approve(id, *ctx.packs, who, comment);
  } else if (cmd == "release-reject") {
    s = ctx.book->Reject(id, who, comment);
  } else {
    return json{{"ok", false}, {"error", "unknown command '" + cmd + "'"}};
  }
  if (!s.ok()) return ErrorReply(s);
  return json{{"ok", true}};
}

}  // namespace eds::daemon
