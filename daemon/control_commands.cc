#include "daemon/control_commands.h"

#include "daemon/control_import.h"
#include "daemon/master_key.h"
#include "daemon/version.h"

namespace eds::daemon {
namespace {

nlohmann::json StatusJson(ControlContext& ctx) {
  const storage::StoreStats s = ctx.store.Stats();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - ctx.started);
  return {{"ok", true},
          {"version", kVersion},
          {"uptime_s", uptime.count()},
          {"store",
           {{"state", "open"},
            {"data_dir", ctx.store.data_dir()},
            {"records", s.records_estimate},
            {"patients", s.patients},
            {"audit_entries", s.audit_entries},
            {"dictionary", s.dictionary_id},
            {"disk_bytes", s.disk_bytes},
            {"master_key_id", ctx.store.MasterKeyId()}}}};
}

nlohmann::json Verify(ControlContext& ctx, const storage::AuditEvent& ev) {
  ctx.store.Audit(ev).IgnoreError();
  auto audit = ctx.store.VerifyAudit();
  if (!audit.ok()) return ErrorReply(audit.status());
  auto records = ctx.store.VerifyRecords();
  if (!records.ok()) return ErrorReply(records.status());
  nlohmann::json j = {{"ok", audit->intact && records->failed == 0},
                      {"audit",
                       {{"intact", audit->intact},
                        {"entries", audit->entries},
                        {"first_broken", audit->first_broken},
                        {"reason", audit->reason}}},
                      {"records", {{"checked", records->records}, {"failed", records->failed}}}};
  if (!audit->intact) {
    j["error"] =
        "audit chain broken at entry " + std::to_string(audit->first_broken) + ": " + audit->reason;
  } else if (records->failed != 0) {
    j["error"] = std::to_string(records->failed) + " records fail authentication";
  }
  return j;
}

}  // namespace

nlohmann::json HandleControlRequest(ControlContext& ctx, const nlohmann::json& request,
                                    const PeerCredentials& peer) {
  const std::string cmd = request.value("cmd", "");
  const storage::AuditEvent ev{"edsctl uid=" + std::to_string(peer.uid), "admin." + cmd, "", ""};
  if (cmd == "ping") return {{"ok", true}};
  if (auto r = HandleReleaseCommand(ctx.releases, cmd, request, ev.actor)) return *r;
  if (auto r = HandleSyncCommand(ctx.sync, cmd, request)) return *r;
  if (auto r = HandleUpdateCommand(ctx.update, cmd, request, ev.actor)) return *r;
  if (cmd == "status") return StatusJson(ctx);
  if (cmd == "verify") return Verify(ctx, ev);
  if (cmd == "import-status") return ImportStatus(ctx, request);
  if (cmd == "import")
    return {{"ok", false}, {"error", "import streams on a connection of its own"}};
  if (cmd == "backup") {
    const std::string dir = request.value("dir", "");
    auto path = ctx.store.Backup(dir, ev);
    if (!path.ok()) return ErrorReply(path.status());
    return {{"ok", true}, {"path", *path}};
  }
  if (cmd == "rotate-key") {
    auto note = RotateMasterKey(ctx.storage, ctx.store, request.value("new_key_file", ""), ev);
    if (!note.ok()) return ErrorReply(note.status());
    return {{"ok", true}, {"note", *note}, {"master_key_id", ctx.store.MasterKeyId()}};
  }
  if (cmd == "token-create" && ctx.tokens != nullptr) {
    auto token = ctx.tokens->Create(request.value("name", ""), ev.actor);
    if (!token.ok()) return ErrorReply(token.status());
    // The only time the token is shown: the box keeps its hash alone.
    return {{"ok", true}, {"name", request.value("name", "")}, {"token", *token}};
  }
  if (cmd == "token-revoke" && ctx.tokens != nullptr) {
    const Status s = ctx.tokens->Revoke(request.value("name", ""), ev.actor);
    if (!s.ok()) return ErrorReply(s);
    return {{"ok", true}};
  }
  if (cmd == "token-list" && ctx.tokens != nullptr) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : ctx.tokens->List()) {
      list.push_back({{"name", t.name}, {"created", t.created}, {"revoked", t.revoked}});
    }
    return {{"ok", true}, {"tokens", list}};
  }
  if (cmd.rfind("objection-", 0) == 0 && ctx.objections != nullptr) {
    if (cmd == "objection-list") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& o : ctx.objections->List()) {
        list.push_back({{"identifier", o.identifier}, {"added", o.added}});
      }
      return {{"ok", true}, {"objections", list}};
    }
    auto id = ingest::ParseIdentifier(request.value("identifier", ""));
    if (!id.ok()) return ErrorReply(id.status());
    const Status s = cmd == "objection-add" ? ctx.objections->Add(*id, ev.actor)
                     : cmd == "objection-remove"
                         ? ctx.objections->Remove(*id, ev.actor)
                         : InvalidArgumentError("unknown objection command");
    if (!s.ok()) return ErrorReply(s);
    return {{"ok", true}};
  }
  if (cmd == "erase" && ctx.pseudonymizer != nullptr) {
    auto id = ingest::ParseIdentifier(request.value("identifier", ""));
    if (!id.ok()) return ErrorReply(id.status());
    const std::string pseudonym = ingest::ResolvePseudonym(ctx.store, *ctx.pseudonymizer, {*id});
    auto report = ctx.store.ErasePatient(pseudonym, ev);
    if (!report.ok()) return ErrorReply(report.status());
    return {{"ok", true},
            {"records_deleted", report->records_deleted},
            {"backups_scrubbed", report->backups_scrubbed},
            {"backups_unreachable", report->backups_unreachable}};
  }
  return {{"ok", false}, {"error", "unknown command '" + cmd + "'"}};
}

}  // namespace eds::daemon
