// Objections (droit d'opposition) and erasure, for reviewers.
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {

HttpResponse ListObjections(State& state, Call&) {
  if (state.ctx.objections == nullptr) return HttpResponse::JsonError(503, "no register");
  json list = json::array();
  for (const auto& o : state.ctx.objections->List()) {
    list.push_back({{"identifier", o.identifier}, {"added", o.added}});
  }
  return Ok({{"objections", list}});
}

HttpResponse AddObjection(State& state, Call& call) {
  if (state.ctx.objections == nullptr) return HttpResponse::JsonError(503, "no register");
  auto id = ingest::ParseIdentifier(Field(call, "identifier"));
  if (!id.ok()) return ErrorResponse(id.status());
  const Status s = state.ctx.objections->Add(*id, call.actor());
  if (!s.ok()) return ErrorResponse(s);
  return HttpResponse::Json(201, {{"ok", true}});
}

HttpResponse RemoveObjection(State& state, Call& call) {
  if (state.ctx.objections == nullptr) return HttpResponse::JsonError(503, "no register");
  auto id = ingest::ParseIdentifier(Field(call, "identifier"));
  if (!id.ok()) return ErrorResponse(id.status());
  const Status s = state.ctx.objections->Remove(*id, call.actor());
  if (!s.ok()) return ErrorResponse(s);
  return Ok();
}

HttpResponse ErasePatient(State& state, Call& call) {
  if (state.ctx.pseudonymizer == nullptr) return HttpResponse::JsonError(503, "no pseudonymizer");
  const std::string identifier = Field(call, "identifier");
  // Erasure cannot be undone (old backups stop decrypting too): the caller types the
  // identifier twice.
  if (identifier.empty() || Field(call, "confirm") != identifier) {
    return HttpResponse::JsonError(400, "confirm must repeat the identifier");
  }
  auto id = ingest::ParseIdentifier(identifier);
  if (!id.ok()) return ErrorResponse(id.status());
  const std::string pseudonym =
      ingest::ResolvePseudonym(*state.ctx.store, *state.ctx.pseudonymizer, {*id});
  auto report =
      state.ctx.store->ErasePatient(pseudonym, {call.actor(), "patient.erase", "", "web admin"});
  if (!report.ok()) return ErrorResponse(report.status());
  return Ok({{"ok", true},
             {"records_deleted", report->records_deleted},
             {"backups_scrubbed", report->backups_scrubbed},
             {"backups_unreachable", report->backups_unreachable}});
}

}  // namespace eds::webadmin::internal
