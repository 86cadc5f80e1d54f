// The admin API's shared state and the helpers its route handlers use (webadmin/api/*.cc).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "webadmin/api/api.h"
#include "webadmin/auth/accounts.h"
#include "webadmin/stats_history.h"

namespace eds::webadmin {

struct Api::State {
  AdminContext ctx;
  ApiOptions options;
  Clock* clock = nullptr;
  std::unique_ptr<AccountBook> accounts;
  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<LoginThrottle> throttle;
  std::unique_ptr<StatsHistory> history;  // the dashboard's charts

  Mutex mu;
  std::string setup_token EDS_GUARDED_BY(mu);  // empty once an account exists
};

namespace internal {

using State = Api::State;
using nlohmann::json;

// One request being served: the route's path parameters and, past the access checks, the
// caller's session.
struct Call {
  const HttpRequest& request;
  std::vector<std::string> params;
  std::optional<Session> session;
  json body;  // parsed JSON body (null when empty)

  // The audit actor: "admin:<account>".
  std::string actor() const { return session ? "admin:" + session->user : "anonymous"; }
};

using Handler = HttpResponse (*)(State&, Call&);

// Status -> HTTP: 400 invalid, 404 not found, 409 exists / wrong state, 401, 403, 429, 503, 500.
HttpResponse ErrorResponse(const Status& status);
HttpResponse Ok(const json& body = {{"ok", true}});
// The URL-decoded value of `name` in the query string, or "".
std::string QueryParam(std::string_view query, std::string_view name);
// The value of cookie `name`, or "".
std::string CookieValue(const HttpRequest& request, std::string_view name);
// A string field of the body, or "" when absent or not a string.
std::string Field(const Call& call, const char* name);
// The sign-in throttle's state is one store record, written with the audit entry of each failure
// (and of a sign-in that clears a count), so a restart does not lift a lockout.
Status SaveThrottle(State& state, const storage::AuditEvent& event);
Status LoadThrottle(State& state);
// Records a point of the dashboard's history (at most once a minute) and returns them all.
std::vector<StatsPoint> Samples(State& state);

inline constexpr std::string_view kSessionCookie = "eds_session";

// Route handlers, grouped by file.
HttpResponse Login(State&, Call&);
HttpResponse Logout(State&, Call&);
HttpResponse GetSession(State&, Call&);
HttpResponse SetLanguage(State&, Call&);
HttpResponse ChangePassword(State&, Call&);
HttpResponse GetSetup(State&, Call&);
HttpResponse PostSetup(State&, Call&);

HttpResponse GetStatus(State&, Call&);
HttpResponse GetIdentity(State&, Call&);
HttpResponse GetSync(State&, Call&);
HttpResponse SyncNow(State&, Call&);

HttpResponse GetFeeds(State&, Call&);
HttpResponse ListTokens(State&, Call&);
HttpResponse CreateToken(State&, Call&);
HttpResponse RevokeToken(State&, Call&);

HttpResponse ListReleases(State&, Call&);
HttpResponse ComputeRelease(State&, Call&);
HttpResponse GetRelease(State&, Call&);
HttpResponse ApproveRelease(State&, Call&);
HttpResponse RejectRelease(State&, Call&);

HttpResponse ListObjections(State&, Call&);
HttpResponse AddObjection(State&, Call&);
HttpResponse RemoveObjection(State&, Call&);
HttpResponse ErasePatient(State&, Call&);

HttpResponse ListAudit(State&, Call&);
HttpResponse VerifyAudit(State&, Call&);

HttpResponse Backup(State&, Call&);
HttpResponse ListUsers(State&, Call&);
HttpResponse CreateUser(State&, Call&);
HttpResponse UpdateUser(State&, Call&);
HttpResponse DeleteUser(State&, Call&);
HttpResponse GetSettings(State&, Call&);
HttpResponse PutSettings(State&, Call&);
HttpResponse GetUpdate(State&, Call&);
HttpResponse UploadUpdate(State&, Call&);
HttpResponse CreateMetricsToken(State&, Call&);
HttpResponse ReplaceCertificate(State&, Call&);
HttpResponse RotateKey(State&, Call&);

// GET /metrics body (Prometheus text format 0.0.4).
std::string MetricsText(State& state);

}  // namespace internal
}  // namespace eds::webadmin
