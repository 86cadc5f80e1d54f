#include "daemon/control_update.h"

#include <sodium.h>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/log.h"
#include "daemon/control_server.h"

namespace eds::daemon {
namespace {

using nlohmann::json;

std::string_view KindName(update::ItemKind k) {
  return k == update::ItemKind::kFirmware ? "firmware" : "measure-pack";
}

// The version of a trusted role's metadata, or 0.
int64_t VersionOf(update::MetadataStore& metadata, std::string_view role) {
  auto bytes = metadata.Get(role);
  if (!bytes.ok()) return 0;
  const json j = json::parse(*bytes, nullptr, false);
  if (!j.is_object() || !j.contains("signed")) return 0;
  return j["signed"].value("version", int64_t{0});
}

json SelfTest(UpdateContext& ctx, const std::string& actor) {
  unsigned char nonce[16];
  randombytes_buf(nonce, sizeof nonce);
  const std::string marker = HexEncode({reinterpret_cast<const char*>(nonce), sizeof nonce});
  Status s = ctx.store->Write({{"", "self-test", marker}}, {actor, "admin.self-test", "", ""});
  if (!s.ok()) return ErrorReply(s.WithContext("self-test: store write"));
  auto back = ctx.store->Read("", "self-test", {actor, "admin.self-test.read", "", ""});
  if (!back.ok()) return ErrorReply(back.status().WithContext("self-test: store read"));
  if (*back != marker)
    return ErrorReply(DataLossError("self-test: the store read back other bytes"));
  const std::string signature = ctx.identity->Sign(marker);
  if (!sync::VerifySignature(ctx.identity->public_key(), marker, signature)) {
    return ErrorReply(InternalError("self-test: the node key's signature does not verify"));
  }
  return {{"ok", true}, {"checks", {"store write and read", "node key signature"}}};
}

}  // namespace

json UpdateStatusJson(UpdateContext& ctx) {
  json slots = nullptr;
  auto state = ctx.slots->State();
  if (state.ok()) {
    slots = {{"booted", state->booted},
             {"committed", state->committed},
             {"pending", state->pending},
             {"installed_version", state->installed_version}};
  } else {
    slots = {{"error", state.status().message()}};
  }
  MutexLock lock(ctx.log->mu);
  return {
      {"ok", true},
      {"trusted",
       {{"root", VersionOf(*ctx.metadata, "root")},
        {"timestamp", VersionOf(*ctx.metadata, "timestamp")},
        {"snapshot", VersionOf(*ctx.metadata, "snapshot")},
        {"targets", VersionOf(*ctx.metadata, "targets")}}},
      {"slots", slots},
      {"last", {{"at", ctx.log->at}, {"source", ctx.log->source}, {"result", ctx.log->result}}}};
}

json RunUpdate(UpdateContext& ctx, const std::string& source,
               const std::function<Result<update::UpdateReport>()>& run) {
  MutexLock running(ctx.log->run_mu);
  auto report = run();
  json out;
  std::string summary;
  if (!report.ok()) {
    out = ErrorReply(report.status());
    summary = report.status().message();
    LogWarning("update refused",
               {{"EDS_UPDATE_SOURCE", source}, {"EDS_ERROR", report.status().ToString()}});
  } else {
    json installed = json::array();
    bool packs = false;
    for (const auto& item : report->installed) {
      installed.push_back(
          {{"target", item.target}, {"kind", KindName(item.kind)}, {"version", item.version}});
      summary += (summary.empty() ? "" : ", ") + item.target + " " + item.version;
      packs |= item.kind == update::ItemKind::kMeasurePack;
    }
    if (summary.empty()) summary = "nothing new";
    if (packs && ctx.packs_changed) ctx.packs_changed();
    out = {{"ok", true},
           {"targets_version", report->targets_version},
           {"installed", installed},
           {"unchanged", report->unchanged}};
    LogInfo("update verified: " + summary, {{"EDS_UPDATE_SOURCE", source}});
  }
  ctx.store->Audit({"update", report.ok() ? "update.installed" : "update.refused", source, summary})
      .IgnoreError();
  MutexLock lock(ctx.log->mu);
  ctx.log->at = FormatRfc3339(SystemClock::Get().Now());
  ctx.log->source = source;
  ctx.log->result = summary;
  return out;
}

std::optional<json> HandleUpdateCommand(UpdateContext& ctx, const std::string& cmd,
                                        const json& request, const std::string& actor) {
  if (cmd == "self-test") return SelfTest(ctx, actor);
  if (cmd == "update-status") return UpdateStatusJson(ctx);
  if (cmd == "update-apply") {
    const std::string file = request.value("file", "");
    if (file.empty() || file.front() != '/') {
      return ErrorReply(InvalidArgumentError("update-apply needs the bundle's absolute path"));
    }
    return RunUpdate(ctx, "bundle " + file, [&] { return ctx.updater->ApplyBundle(file); });
  }
  if (cmd == "update-poll") {
    return RunUpdate(ctx, "poll", [&] { return ctx.updater->Poll(); });
  }
  return std::nullopt;
}

}  // namespace eds::daemon
