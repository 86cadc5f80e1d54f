// FHIR bearer tokens of the feeds: a new token is shown once, in the answer that creates it.
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {

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
