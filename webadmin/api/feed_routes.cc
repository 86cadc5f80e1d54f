// The feeds: the MLLP listener and the feeds' last refusals; FHIR bearer tokens (a new token is
// shown once, in the answer that creates it).
#include "common/clock.h"
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {
namespace {

std::string Rfc3339(int64_t unix_ms) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

}  // namespace

HttpResponse GetFeeds(State& state, Call&) {
  json mllp = {{"enabled", state.ctx.mllp != nullptr}};
  if (state.ctx.mllp != nullptr) {
    const ingest::MllpListenerOptions& o = state.ctx.mllp_options;
    const ingest::MllpListenerStats s = state.ctx.mllp->stats();
    mllp["bind"] = o.bind_address;
    mllp["port"] = state.ctx.mllp->port();
    mllp["tls"] = !o.tls_cert_path.empty();
    mllp["allowed_peers"] = o.allowed_peers;
    mllp["connections_active"] = s.connections_active;
    mllp["connections_accepted"] = s.connections_accepted;
    mllp["connections_refused"] = s.connections_refused_peer + s.connections_refused_limit;
    mllp["messages_received"] = s.messages_received;
    mllp["framing_errors"] = s.framing_errors;
    json peers = json::array();
    for (const ingest::MllpPeer& p : state.ctx.mllp->peers()) {
      json peer = {{"address", p.address},   {"port", p.port},
                   {"tls", p.tls},           {"connected_at", Rfc3339(p.connected_at_ms)},
                   {"messages", p.messages}, {"acks", p.acks}};
      peer["last_message_at"] = p.last_message_at_ms != 0 ? Rfc3339(p.last_message_at_ms) : "";
      peers.push_back(std::move(peer));
    }
    mllp["peers"] = peers;
    if (state.ctx.hl7 != nullptr) {
      const ingest::Hl7IngestStats& h = state.ctx.hl7->stats();
      mllp["messages_accepted"] = h.accepted.load() + h.duplicates.load();
      mllp["messages_rejected"] = h.errors.load() + h.rejected.load();
    }
  }
  json errors = json::array();
  if (state.ctx.ingest_errors != nullptr) {
    for (const ingest::IngestError& e : state.ctx.ingest_errors->Recent()) {
      errors.push_back({{"at", Rfc3339(e.at_ms)},
                        {"feed", e.feed},
                        {"source", e.source},
                        {"code", e.code},
                        {"reason", e.reason}});
    }
  }
  return Ok({{"mllp", mllp}, {"errors", errors}});
}

HttpResponse ListTokens(State& state, Call&) {
  if (state.ctx.tokens == nullptr) return HttpResponse::JsonError(503, "no token register");
  json list = json::array();
  for (const auto& t : state.ctx.tokens->List()) {
    list.push_back({{"name", t.name}, {"created", t.created}, {"revoked", t.revoked}});
  }
  return Ok({{"tokens", list}});
}

HttpResponse CreateToken(State& state, Call& call) {
  if (state.ctx.tokens == nullptr) return HttpResponse::JsonError(503, "no token register");
  const std::string name = Field(call, "name");
  auto token = state.ctx.tokens->Create(name, call.actor());
  if (!token.ok()) return ErrorResponse(token.status());
  return HttpResponse::Json(201, {{"name", name}, {"token", *token}});
}

HttpResponse RevokeToken(State& state, Call& call) {
  if (state.ctx.tokens == nullptr) return HttpResponse::JsonError(503, "no token register");
  const Status s = state.ctx.tokens->Revoke(call.params.at(0), call.actor());
  if (!s.ok()) return ErrorResponse(s);
  return Ok();
}

}  // namespace eds::webadmin::internal
