// Sign-in, sign-out, the caller's session and first-boot setup.
#include "common/status_macros.h"
#include "webadmin/internal/api_state.h"
#include "webadmin/node_settings.h"

namespace eds::webadmin::internal {
namespace {

std::string SessionCookie(const std::string& id) {
  return std::string(kSessionCookie) + "=" + id + "; Path=/; HttpOnly; Secure; SameSite=Strict";
}

json SessionJson(State& state, const Session& s) {
  const auto account = state.accounts->Find(s.user);
  return {{"user", s.user},
          {"role", RoleName(s.role)},
          {"language", account ? account->language : "fr"},
          {"csrf_token", s.csrf}};
}

HttpResponse SignedIn(State& state, const Account& account) {
  const Session s = state.sessions->Create(account.name, account.role);
  HttpResponse r = Ok(SessionJson(state, s));
  r.headers.emplace_back("Set-Cookie", SessionCookie(s.id));
  return r;
}

json IdentityJson(State& state) {
  if (state.ctx.identity == nullptr) return nullptr;
  return {{"node_id", state.ctx.identity->node_id()},
          {"public_key", state.ctx.identity->PublicKeyBase64()},
          {"fingerprint", state.ctx.identity->Fingerprint()}};
}

}  // namespace

HttpResponse Login(State& state, Call& call) {
  const std::string name = Field(call, "name");
  const std::string address = call.request.remote_addr;
  storage::Store& store = *state.ctx.store;
  if (auto wait = state.throttle->LockedFor(name, address)) {
    store.Audit({"web " + address, "auth.login_locked", name, ""}).IgnoreError();
    HttpResponse r = HttpResponse::JsonError(
        429, "too many failed sign-ins; try again in " + std::to_string(wait->count()) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
    return r;
  }
  auto account = state.accounts->Verify(name, Field(call, "password"));
  if (!account.ok()) {
    const bool locks = state.throttle->Failure(name, address);
    SaveThrottle(state, {"web " + address, "auth.login_failed", name, ""}).IgnoreError();
    if (locks) {
      store.Audit({"web " + address, "auth.lockout", name, "too many failed sign-ins"})
          .IgnoreError();
    }
    return ErrorResponse(account.status());
  }
  const storage::AuditEvent signed_in{"admin:" + name, "auth.login", address, ""};
  if (state.throttle->Success(name)) {
    SaveThrottle(state, signed_in).IgnoreError();
  } else {
    store.Audit(signed_in).IgnoreError();
  }
  return SignedIn(state, *account);
}

HttpResponse Logout(State& state, Call& call) {
  state.sessions->Remove(CookieValue(call.request, kSessionCookie));
  state.ctx.store->Audit({call.actor(), "auth.logout", "", ""}).IgnoreError();
  HttpResponse r = Ok();
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                           "=; Path=/; Max-Age=0; HttpOnly; Secure; "
                                           "SameSite=Strict");
  return r;
}

HttpResponse GetSession(State& state, Call& call) { return Ok(SessionJson(state, *call.session)); }

HttpResponse SetLanguage(State& state, Call& call) {
  const Status s =
      state.accounts->SetLanguage(call.session->user, Field(call, "language"), call.actor());
  if (!s.ok()) return ErrorResponse(s);
  return Ok(SessionJson(state, *call.session));
}

HttpResponse ChangePassword(State& state, Call& call) {
  auto account = state.accounts->Verify(call.session->user, Field(call, "current"));
  if (!account.ok()) return HttpResponse::JsonError(403, "the current password is wrong");
  const Status s =
      state.accounts->SetPassword(call.session->user, Field(call, "password"), call.actor());
  if (!s.ok()) return ErrorResponse(s);
  // Other browsers signed in with the old password are signed out.
  state.sessions->RemoveUser(call.session->user);
  return SignedIn(state, *account);
}

HttpResponse GetSetup(State& state, Call&) {
  MutexLock lock(state.mu);
  return Ok({{"needed", !state.setup_token.empty()}});
}

HttpResponse PostSetup(State& state, Call& call) {
  // Held throughout, so two set-ups cannot both create a first admin.
  MutexLock lock(state.mu);
  if (state.setup_token.empty()) return HttpResponse::JsonError(409, "the box is already set up");
  if (!SecretsEqual(Field(call, "token"), state.setup_token)) {
    state.ctx.store->Audit({"web " + call.request.remote_addr, "setup.refused", "", "wrong token"})
        .IgnoreError();
    return HttpResponse::JsonError(403, "wrong setup token (see the journal: journalctl -u edsd)");
  }
  auto settings = NodeSettingsFromJson(call.body.value("settings", json::object()), {});
  if (!settings.ok()) return ErrorResponse(settings.status());
  if (Status s = ValidateNodeSettings(*settings); !s.ok()) return ErrorResponse(s);
  const json admin = call.body.value("admin", json::object());
  Account account;
  account.name = admin.is_object() ? admin.value("name", "") : "";
  account.role = Role::kAdmin;
  account.language = admin.is_object() ? admin.value("language", "fr") : "fr";
  const std::string password = admin.is_object() ? admin.value("password", "") : "";
  const std::string actor = "admin:" + account.name;
  if (state.ctx.settings_changed) {
    if (Status s = state.ctx.settings_changed(*settings); !s.ok()) return ErrorResponse(s);
  }
  if (Status s = state.accounts->Create(account, password, actor); !s.ok()) {
    return ErrorResponse(s);
  }
  if (Status s = SaveNodeSettings(*state.ctx.store, *settings, actor); !s.ok()) {
    return ErrorResponse(s);
  }
  state.setup_token.clear();
  state.ctx.store->Audit({actor, "setup.done", "", settings->hospital_name}).IgnoreError();
  return Ok({{"ok", true}, {"node", IdentityJson(state)}});
}

HttpResponse GetIdentity(State& state, Call&) { return Ok(IdentityJson(state)); }

}  // namespace eds::webadmin::internal
