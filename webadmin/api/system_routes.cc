// System: backup, accounts, node settings, the update status, the /metrics token, the admin TLS
// certificate and the master key.
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string_view>

#include "common/encoding.h"
#include "webadmin/internal/api_state.h"
#include "webadmin/internal/tls_context.h"
#include "webadmin/node_settings.h"
#include "webadmin/tls_certificate.h"

namespace eds::webadmin::internal {
namespace {

json AccountJson(const Account& a) {
  return {{"name", a.name},
          {"role", RoleName(a.role)},
          {"language", a.language},
          {"created", a.created}};
}

std::string RandomHex() {
  unsigned char nonce[12];
  randombytes_buf(nonce, sizeof nonce);
  return HexEncode({reinterpret_cast<char*>(nonce), sizeof nonce});
}

// Writes `data` to the new file `path` with `mode` and flushes it, so that a rename over the
// live file after a crash never leaves a short file in its place.
bool WriteNewFile(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == data.size() && fsync(fd) == 0;
  return close(fd) == 0 && ok;
}

void SyncDirectoryOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
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

// A new admin certificate and key (PEM). Both are staged beside the files they replace (same
// file system, so the renames are atomic) and checked there exactly as the server will load them;
// anything wrong leaves the live files untouched. CivetWeb loads them at start only.
HttpResponse ReplaceCertificate(State& state, Call& call) {
  const std::string& cert_path = state.ctx.admin_tls_cert;
  const std::string& key_path = state.ctx.admin_tls_key;
  if (cert_path.empty() || key_path.empty()) {
    return HttpResponse::JsonError(503, "certificate replacement is not available");
  }
  const std::string cert_pem = Field(call, "cert_pem");
  const std::string key_pem = Field(call, "key_pem");
  if (cert_pem.empty() || key_pem.empty()) {
    return HttpResponse::JsonError(400, "cert_pem and key_pem: PEM text needed");
  }
  const std::string suffix = ".upload-" + RandomHex();
  const std::string staged_cert = cert_path + suffix;
  const std::string staged_key = key_path + suffix;
  std::error_code ec;
  auto discard = [&] {
    std::filesystem::remove(staged_cert, ec);
    std::filesystem::remove(staged_key, ec);
  };
  if (!WriteNewFile(staged_cert, cert_pem, 0644) || !WriteNewFile(staged_key, key_pem, 0600)) {
    discard();
    return HttpResponse::JsonError(500, "cannot stage the certificate files");
  }
  Status check = CheckCertificateAndKey(staged_cert, staged_key);
  if (check.ok()) check = CheckServerCertificate(staged_cert);
  auto fingerprint = CertificateFingerprintSha256(staged_cert);
  if (check.ok() && !fingerprint.ok()) check = fingerprint.status();
  if (!check.ok()) {
    discard();
    state.ctx.store->Audit({call.actor(), "admin.tls.refused", cert_path, check.message()})
        .IgnoreError();
    return HttpResponse::JsonError(400, check.message());
  }
  // The key first: should the second rename fail, the server refuses to start on a mismatched
  // pair (and says so) rather than serving an unexpected certificate.
  if (std::rename(staged_key.c_str(), key_path.c_str()) != 0 ||
      std::rename(staged_cert.c_str(), cert_path.c_str()) != 0) {
    discard();
    return HttpResponse::JsonError(500, "cannot replace the certificate files");
  }
  SyncDirectoryOf(key_path);
  SyncDirectoryOf(cert_path);
  state.ctx.store->Audit({call.actor(), "admin.tls.replace", cert_path, *fingerprint})
      .IgnoreError();
  return Ok({{"ok", true},
             {"fingerprint", *fingerprint},
             {"restart_needed", true},
             {"note", "restart edsd to serve the new certificate"}});
}

// Re-wraps the store's keys under a new master key, as `edsctl rotate-key` does.
HttpResponse RotateKey(State& state, Call& call) {
  if (!state.ctx.rotate_master_key) {
    return HttpResponse::JsonError(503, "key rotation is not available");
  }
  auto note = state.ctx.rotate_master_key({call.actor(), "admin.rotate-key", "", ""});
  if (!note.ok()) return ErrorResponse(note.status());
  return Ok({{"ok", true}, {"note", *note}, {"master_key_id", state.ctx.store->MasterKeyId()}});
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
