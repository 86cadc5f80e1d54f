// Api: the admin UI's JSON API under /api (docs/openapi.yaml), /metrics and the embedded UI.
// Authentication is by session cookie (webadmin/auth); each route names the roles that may call
// it, and every state-changing call needs the session's CSRF token in X-CSRF-Token. Every action
// is audited with the account as actor ("admin:<name>"). While no account exists, a one-time
// setup token is made and logged; POST /api/setup with it creates the first admin and the node's
// settings. Thread-safe; `context`'s objects must outlive the Api, the Api the server.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "webadmin/admin_server.h"
#include "webadmin/api/admin_context.h"
#include "webadmin/auth/login_throttle.h"
#include "webadmin/auth/password.h"
#include "webadmin/auth/sessions.h"

namespace eds::webadmin {

struct ApiOptions {
  SessionOptions sessions;
  ThrottleOptions throttle;
  PasswordCost password_cost;
  // Where "backup now" writes (a new folder under it). Default: "backups" beside the data dir.
  std::string backup_dir;
  Clock* clock = nullptr;  // must outlive the Api; nullptr = SystemClock
};

// Who may call a route: a set of role bits, or none for the public routes (login, setup).
inline constexpr unsigned kRoleAdmin = 1;
inline constexpr unsigned kRoleReviewer = 2;
inline constexpr unsigned kRoleViewer = 4;
inline constexpr unsigned kAnyRole = kRoleAdmin | kRoleReviewer | kRoleViewer;

struct RouteInfo {
  std::string_view method;
  std::string_view pattern;  // "/api/releases/{id}": a {name} matches one path segment
  unsigned roles = 0;        // 0 = public
};

// Every /api route, for the docs and for tests that walk them all.
std::span<const RouteInfo> ApiRoutes();

class Api {
 public:
  static Result<std::unique_ptr<Api>> Create(const AdminContext& context, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Serves /api/..., /metrics and the UI from `server`.
  void Register(AdminServer& server);
  HttpResponse Handle(const HttpRequest& request);
  HttpResponse Metrics(const HttpRequest& request);
  HttpResponse Ui(const HttpRequest& request) const;

  // Takes a point of the dashboard's history when a minute has passed since the last one; the
  // daemon calls it about once a minute, so the charts do not depend on someone watching.
  void RecordStats();

  // The first-boot token, empty once an account exists.
  std::string SetupTokenForTest() const;

  struct State;

 private:
  explicit Api(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace eds::webadmin
