#include "daemon/control_sync.h"

#include "daemon/control_server.h"

namespace eds::daemon {
namespace {

using nlohmann::json;

json StatusJson(SyncContext& ctx) {
  const sync::DeliveryState s = ctx.outbox->State();
  json queue = json::array();
  auto pending = ctx.outbox->Pending(100);
  if (!pending.ok()) return ErrorReply(pending.status());
  for (const auto& q : *pending) {
    queue.push_back(
        {{"sequence", q.seq}, {"release", q.release_id}, {"period", q.period}, {"bytes", q.bytes}});
  }
  return {{"ok", true},
          {"enabled", ctx.service != nullptr && ctx.service->Configured()},
          {"node_id", ctx.identity->node_id()},
          {"queued", s.queued},
          {"queue", queue},
          {"consecutive_failures", s.consecutive_failures},
          {"last_attempt_at", s.last_attempt_at},
          {"last_error", s.last_error},
          {"last_error_at", s.last_error_at},
          {"last_delivery_at", s.last_delivery_at},
          {"last_delivered", s.last_delivered},
          {"delivered_total", s.delivered_total},
          {"next_run_at", ctx.service != nullptr ? ctx.service->NextRunAt() : ""}};
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
