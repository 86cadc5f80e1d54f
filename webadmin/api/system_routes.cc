// System: backup, accounts, node settings, the update status and the /metrics token.
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>

#include "common/encoding.h"
#include "webadmin/internal/api_state.h"
#include "webadmin/node_settings.h"

namespace eds::webadmin::internal {
namespace {

json AccountJson(const Account& a) {
  return {{"name", a.name},
          {"role", RoleName(a.role)},
          {"language", a.language},
          {"created", a.created}};
}

}  // namespace

HttpResponse Backup(State& state, Call& call) {
  auto path = state.ctx.store->Backup(state.options.backup_dir,
                                      {call.actor(), "store.backup", state.options.backup_dir, ""});
  if (!path.ok()) return ErrorResponse(path.status());
  return Ok({{"ok", true}, {"path", *path}});
}

HttpResponse ListUsers(State& state, Call&) {
  json list = json::array();
  for (const auto& a : state.accounts->List()) list.push_back(AccountJson(a));
  return Ok({{"users", list}});
}

HttpResponse CreateUser(State& state, Call& call) {
  Account a;
  a.name = Field(call, "name");
  const auto role = ParseRole(Field(call, "role"));
  if (!role) return HttpResponse::JsonError(400, "role must be admin, reviewer or viewer");
  a.role = *role;
  a.language = Field(call, "language").empty() ? "fr" : Field(call, "language");
  const Status s = state.accounts->Create(a, Field(call, "password"), call.actor());
  if (!s.ok()) return ErrorResponse(s);
  return HttpResponse::Json(201, AccountJson(*state.accounts->Find(a.name)));
}

HttpResponse UpdateUser(State& state, Call& call) {
  const std::string& name = call.params.at(0);
  if (!state.accounts->Find(name)) return HttpResponse::JsonError(404, "no such account");
  if (const std::string r = Field(call, "role"); !r.empty()) {
    const auto role = ParseRole(r);
    if (!role) return HttpResponse::JsonError(400, "role must be admin, reviewer or viewer");
    if (Status s = state.accounts->SetRole(name, *role, call.actor()); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  if (const std::string p = Field(call, "password"); !p.empty()) {
    if (Status s = state.accounts->SetPassword(name, p, call.actor()); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  // A changed role or password applies from the next sign-in.
  state.sessions->RemoveUser(name);
  return Ok(AccountJson(*state.accounts->Find(name)));
}

HttpResponse DeleteUser(State& state, Call& call) {
  const std::string& name = call.params.at(0);
  if (const Status s = state.accounts->Remove(name, call.actor()); !s.ok()) {
    return ErrorResponse(s);
  }
  state.sessions->RemoveUser(name);
  return Ok();
}

HttpResponse GetSettings(State& state, Call&) {
  auto s = LoadNodeSettings(*state.ctx.store);
  if (!s.ok()) return ErrorResponse(s.status());
  return Ok(NodeSettingsToJson(s->value_or(NodeSettings{})));
}

HttpResponse PutSettings(State& state, Call& call) {
  auto current = LoadNodeSettings(*state.ctx.store);
  if (!current.ok()) return ErrorResponse(current.status());
  auto next = NodeSettingsFromJson(call.body, current->value_or(NodeSettings{}));
  if (!next.ok()) return ErrorResponse(next.status());
  // The running sync takes them first: settings it cannot use are refused, not saved.
  if (state.ctx.settings_changed) {
    if (Status s = state.ctx.settings_changed(*next); !s.ok()) return ErrorResponse(s);
  }
  if (Status s = SaveNodeSettings(*state.ctx.store, *next, call.actor()); !s.ok()) {
    return ErrorResponse(s);
  }
  return Ok(NodeSettingsToJson(*next));
}

HttpResponse GetUpdate(State& state, Call&) {
  json out = state.ctx.update_status ? state.ctx.update_status() : json::object();
  out["version"] = state.ctx.version;
  return Ok(out);
}

// An offline update bundle, base64 in {"bundle": ...}: written to a private file, verified and
// installed exactly like `edsctl update apply`, then removed.
HttpResponse UploadUpdate(State& state, Call& call) {
  if (!state.ctx.apply_update) return HttpResponse::JsonError(503, "updates are not available");
  const auto bytes = Base64Decode(Field(call, "bundle"));
  if (!bytes || bytes->empty()) return HttpResponse::JsonError(400, "bundle: base64 bytes needed");
  unsigned char nonce[12];
  randombytes_buf(nonce, sizeof nonce);
  std::error_code ec;
  std::filesystem::create_directories(state.ctx.update_dir, ec);
  const std::string path =
      (std::filesystem::path(state.ctx.update_dir) /
       ("upload-" + HexEncode({reinterpret_cast<char*>(nonce), sizeof nonce}) + ".bundle"))
          .string();
  {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return HttpResponse::JsonError(500, "cannot stage the bundle");
    size_t done = 0;
    while (done < bytes->size()) {
      const ssize_t n = write(fd, bytes->data() + done, bytes->size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fd);
    if (done != bytes->size()) {
      std::filesystem::remove(path, ec);
      return HttpResponse::JsonError(500, "cannot stage the bundle");
    }
  }
  const json result = state.ctx.apply_update(path);
  std::filesystem::remove(path, ec);
  state.ctx.store->Audit({call.actor(), "admin.update.upload", "", result.value("error", "")})
      .IgnoreError();
  if (!result.value("ok", false)) return HttpResponse::Json(422, result);
  return Ok(result);
}

HttpResponse CreateMetricsToken(State& state, Call& call) {
  auto current = LoadNodeSettings(*state.ctx.store);
  if (!current.ok()) return ErrorResponse(current.status());
  if (!current->has_value()) return HttpResponse::JsonError(409, "finish the first-boot setup");
  NodeSettings s = **current;
  const std::string token = RandomToken();
  unsigned char hash[32];
  crypto_generichash(hash, sizeof(hash), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  s.metrics_token_hash = HexEncode({reinterpret_cast<const char*>(hash), sizeof(hash)});
  if (Status st = SaveNodeSettings(*state.ctx.store, s, call.actor()); !st.ok()) {
    return ErrorResponse(st);
  }
  state.ctx.store->Audit({call.actor(), "metrics.token", "", "new token; the old one stops"})
      .IgnoreError();
  return HttpResponse::Json(201, {{"token", token}});
}

}  // namespace eds::webadmin::internal
