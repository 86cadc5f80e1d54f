#include "daemon/control_sync.h"

#include "daemon/control_server.h"
#include "sync/status_json.h"

namespace eds::daemon {
namespace {

using nlohmann::json;

json StatusJson(SyncContext& ctx) {
  auto pending = ctx.outbox->Pending(100);
  if (!pending.ok()) return ErrorReply(pending.status());
  json out = sync::DeliveryJson(ctx.outbox->State(), *pending, ctx.service);
  out["ok"] = true;
  out["node_id"] = ctx.identity->node_id();
  return out;
}

}  // namespace

std::optional<json> HandleSyncCommand(SyncContext& ctx, const std::string& cmd, const json&) {
  if (cmd == "identity") {
    return json{{"ok", true},
                {"node_id", ctx.identity->node_id()},
                {"public_key", ctx.identity->PublicKeyBase64()},
                {"fingerprint", ctx.identity->Fingerprint()}};
  }
  if (cmd == "sync-status") return StatusJson(ctx);
  if (cmd == "sync-now") {
    if (ctx.service == nullptr || !ctx.service->Configured()) {
      return ErrorReply(
          FailedPreconditionError("sync is off: set the upstream URL on the setup page, or "
                                  "sync.enabled, upstream_url and ca_file"));
    }
    auto report = ctx.service->RunNow();
    if (!report.ok()) return ErrorReply(report.status());
    json out = {{"ok", report->failure.ok()}, {"delivered", report->delivered}};
    if (!report->failure.ok()) out["error"] = report->failure.message();
    return out;
  }
  return std::nullopt;
}

}  // namespace eds::daemon
