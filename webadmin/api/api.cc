#include "webadmin/api/api.h"

#include <sodium.h>

#include <filesystem>

#include "common/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "webadmin/internal/api_state.h"
#include "webadmin/internal/embedded_file.h"
#include "webadmin/node_settings.h"

namespace eds::webadmin {
namespace {

using internal::Call;
using internal::Handler;
using nlohmann::json;

struct Route {
  RouteInfo info;
  Handler handler;
};

constexpr unsigned kAdmin = kRoleAdmin;
constexpr unsigned kReview = kRoleReviewer;
constexpr unsigned kAny = kAnyRole;
constexpr unsigned kStaff = kRoleAdmin | kRoleReviewer;

// The single list of API routes: dispatch, the authorization test and docs/openapi.yaml follow it.
const Route kRoutes[] = {
    {{"POST", "/api/login", 0}, &internal::Login},
    {{"GET", "/api/setup", 0}, &internal::GetSetup},
    {{"POST", "/api/setup", 0}, &internal::PostSetup},
    {{"POST", "/api/logout", kAny}, &internal::Logout},
    {{"GET", "/api/session", kAny}, &internal::GetSession},
    {{"PUT", "/api/session/language", kAny}, &internal::SetLanguage},
    {{"PUT", "/api/session/password", kAny}, &internal::ChangePassword},
    {{"GET", "/api/status", kAny}, &internal::GetStatus},
    {{"GET", "/api/identity", kAny}, &internal::GetIdentity},
    {{"GET", "/api/feeds", kAdmin}, &internal::GetFeeds},
    {{"GET", "/api/feeds/tokens", kAdmin}, &internal::ListTokens},
    {{"POST", "/api/feeds/tokens", kAdmin}, &internal::CreateToken},
    {{"DELETE", "/api/feeds/tokens/{name}", kAdmin}, &internal::RevokeToken},
    {{"GET", "/api/releases", kAny}, &internal::ListReleases},
    {{"POST", "/api/releases", kStaff}, &internal::ComputeRelease},
    {{"GET", "/api/releases/{id}", kAny}, &internal::GetRelease},
    {{"POST", "/api/releases/{id}/approve", kReview}, &internal::ApproveRelease},
    {{"POST", "/api/releases/{id}/reject", kReview}, &internal::RejectRelease},
    {{"GET", "/api/objections", kReview}, &internal::ListObjections},
    {{"POST", "/api/objections", kReview}, &internal::AddObjection},
    {{"POST", "/api/objections/remove", kReview}, &internal::RemoveObjection},
    {{"POST", "/api/erasure", kReview}, &internal::ErasePatient},
    {{"GET", "/api/audit", kStaff}, &internal::ListAudit},
    {{"POST", "/api/audit/verify", kStaff}, &internal::VerifyAudit},
    {{"POST", "/api/system/backup", kAdmin}, &internal::Backup},
    {{"GET", "/api/system/update", kAdmin}, &internal::GetUpdate},
    {{"POST", "/api/system/update", kAdmin}, &internal::UploadUpdate},
    {{"POST", "/api/system/metrics-token", kAdmin}, &internal::CreateMetricsToken},
    {{"POST", "/api/system/certificate", kAdmin}, &internal::ReplaceCertificate},
    {{"POST", "/api/system/rotate-key", kAdmin}, &internal::RotateKey},
    {{"GET", "/api/users", kAdmin}, &internal::ListUsers},
    {{"POST", "/api/users", kAdmin}, &internal::CreateUser},
    {{"PUT", "/api/users/{name}", kAdmin}, &internal::UpdateUser},
    {{"DELETE", "/api/users/{name}", kAdmin}, &internal::DeleteUser},
    {{"GET", "/api/settings", kAdmin}, &internal::GetSettings},
    {{"PUT", "/api/settings", kAdmin}, &internal::PutSettings},
    {{"GET", "/api/sync", kAny}, &internal::GetSync},
    {{"POST", "/api/sync/now", kAdmin}, &internal::SyncNow},
};

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = std::min(path.find('/'), path.size());
    out.push_back(path.substr(0, slash));
    path.remove_prefix(slash);
  }
  return out;
}

// The path parameters when `path` matches `pattern`.
std::optional<std::vector<std::string>> Match(std::string_view pattern, std::string_view path) {
  const auto want = Segments(pattern);
  const auto have = Segments(path);
  if (want.size() != have.size()) return std::nullopt;
  std::vector<std::string> params;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{')) {
      params.emplace_back(have[i]);
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

unsigned RoleBit(Role role) {
  switch (role) {
    case Role::kAdmin:
      return kRoleAdmin;
    case Role::kReviewer:
      return kRoleReviewer;
    case Role::kViewer:
      return kRoleViewer;
  }
  return 0;
}

bool IsJson(const HttpRequest& r) {
  return FindHeader(r.headers, "Content-Type").starts_with("application/json");
}

std::string_view ContentTypeOf(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr == "::ffff:127.0.0.1";
}

}  // namespace

std::span<const RouteInfo> ApiRoutes() {
  static const std::vector<RouteInfo> routes = [] {
    std::vector<RouteInfo> out;
    for (const Route& r : kRoutes) out.push_back(r.info);
    return out;
  }();
  return routes;
}

Api::Api(std::unique_ptr<State> state) : state_(std::move(state)) {}
Api::~Api() = default;

Result<std::unique_ptr<Api>> Api::Create(const AdminContext& context, ApiOptions options) {
  if (context.store == nullptr) return InvalidArgumentError("the admin API needs the store");
  auto state = std::make_unique<State>();
  state->ctx = context;
  state->clock = options.clock != nullptr ? options.clock : &SystemClock::Get();
  if (options.backup_dir.empty()) {
    options.backup_dir =
        (std::filesystem::path(context.store->data_dir()).parent_path() / "backups").string();
  }
  state->options = options;
  EDS_ASSIGN_OR_RETURN(state->accounts, AccountBook::Load(*context.store, options.password_cost));
  EDS_ASSIGN_OR_RETURN(state->history, StatsHistory::Load(*context.store, *state->clock));
  state->sessions = std::make_unique<SessionTable>(*state->clock, options.sessions);
  state->throttle = std::make_unique<LoginThrottle>(*state->clock, options.throttle);
  // Sign-in stays possible when the saved counts cannot be read (they authenticate, so only a
  // format change could cause it); say so.
  if (Status s = internal::LoadThrottle(*state); !s.ok()) {
    LogWarning("admin: the saved sign-in throttle was not restored", {{"EDS_ERROR", s.ToString()}});
  }
  if (state->accounts->Empty()) {
    MutexLock lock(state->mu);
    state->setup_token = RandomToken();
    // The person installing the box reads it from the console or the journal: whoever can read
    // those already administers the machine.
    LogInfo("first-boot setup: open the admin interface and enter the setup token " +
                state->setup_token,
            {{"EDS_SETUP_TOKEN", state->setup_token}});
  }
  return std::unique_ptr<Api>(new Api(std::move(state)));
}

void Api::RecordStats() { internal::Samples(*state_); }

std::string Api::SetupTokenForTest() const {
  MutexLock lock(state_->mu);
  return state_->setup_token;
}

void Api::Register(AdminServer& server) {
  server.AddPrefixRoute("/api/", [this](const HttpRequest& r) { return Handle(r); });
  server.AddRoute("GET", "/metrics", [this](const HttpRequest& r) { return Metrics(r); });
  server.AddPrefixRoute("/", [this](const HttpRequest& r) { return Ui(r); });
}

HttpResponse Api::Handle(const HttpRequest& request) {
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  for (const Route& r : kRoutes) {
    auto m = Match(r.info.pattern, request.path);
    if (!m) continue;
    if (r.info.method == request.method) {
      route = &r;
      params = std::move(*m);
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + std::string(r.info.method);
  }
  if (route == nullptr) {
    if (allowed.empty()) return HttpResponse::JsonError(404, "not found");
    HttpResponse response = HttpResponse::JsonError(405, "method not allowed");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  Call call{request, std::move(params), std::nullopt, nullptr};
  const bool changes_state = request.method != "GET" && request.method != "HEAD";
  if (changes_state && !request.body.empty()) {
    // A JSON content type cannot be sent cross-site without a CORS preflight, which we never
    // grant: one more guard on top of SameSite cookies and the CSRF token.
    if (!IsJson(request)) return HttpResponse::JsonError(415, "send application/json");
    call.body = json::parse(request.body, nullptr, false);
    if (call.body.is_discarded() || !call.body.is_object()) {
      return HttpResponse::JsonError(400, "the body must be a JSON object");
    }
  } else if (changes_state && route->info.roles == 0) {
    return HttpResponse::JsonError(415, "send application/json");
  }
  if (route->info.roles != 0) {
    const std::string id = internal::CookieValue(request, internal::kSessionCookie);
    call.session = id.empty() ? std::nullopt : state_->sessions->Touch(id);
    if (!call.session) return HttpResponse::JsonError(401, "sign in first");
    if ((route->info.roles & RoleBit(call.session->role)) == 0) {
      state_->ctx.store
          ->Audit({call.actor(), "access.denied", request.method + " " + request.path,
                   std::string(RoleName(call.session->role))})
          .IgnoreError();
      return HttpResponse::JsonError(403, "your role does not allow this");
    }
    if (changes_state &&
        !SecretsEqual(FindHeader(request.headers, "X-CSRF-Token"), call.session->csrf)) {
      return HttpResponse::JsonError(403, "missing or wrong CSRF token");
    }
  }
  return route->handler(*state_, call);
}

HttpResponse Api::Metrics(const HttpRequest& request) {
  bool allowed = IsLoopback(request.remote_addr);
  const std::string_view auth = FindHeader(request.headers, "Authorization");
  if (!allowed && auth.starts_with("Bearer ")) {
    auto settings = LoadNodeSettings(*state_->ctx.store);
    if (settings.ok() && *settings && !(*settings)->metrics_token_hash.empty()) {
      const std::string_view token = auth.substr(7);
      unsigned char hash[32];
      crypto_generichash(hash, sizeof(hash), reinterpret_cast<const unsigned char*>(token.data()),
                         token.size(), nullptr, 0);
      allowed = SecretsEqual(HexEncode({reinterpret_cast<const char*>(hash), sizeof(hash)}),
                             (*settings)->metrics_token_hash);
    }
  }
  if (!allowed) {
    HttpResponse r = HttpResponse::JsonError(401, "metrics need a bearer token off loopback");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"eds-node metrics\"");
    return r;
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = internal::MetricsText(*state_);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse Api::Ui(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    return HttpResponse::JsonError(405, "method not allowed");
  }
  const std::string_view want = request.path == "/" ? std::string_view("index.html")
                                                    : std::string_view(request.path).substr(1);
  for (const auto& file : internal::UiAssets()) {
    if (file.path != want) continue;
    HttpResponse r;
    r.content_type = std::string(ContentTypeOf(want));
    r.body = std::string(file.data);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  return HttpResponse::JsonError(404, "not found");
}

}  // namespace eds::webadmin
