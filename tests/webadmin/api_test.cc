// The admin API over real HTTPS: first-boot setup, sign-in and sessions, lockout, roles, CSRF,
// and the routes the UI uses.
#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/webadmin/api_test_fixture.h"
#include "webadmin/auth/password.h"

namespace eds::webadmin {
namespace {

using nlohmann::json;

json Body(const testing::HttpReply& r) { return json::parse(r.body, nullptr, false); }

TEST_F(ApiFixture, FirstBootSetupNeedsTheTokenAndShowsTheNodeKey) {
  EXPECT_EQ(Body(Call("GET", "/api/setup"))["needed"], true);
  const std::string token = api_->SetupTokenForTest();
  ASSERT_EQ(token.size(), 64u);
  json setup = {{"token", std::string(64, 'a')},
                {"admin", {{"name", "alice"}, {"password", kPassword}}},
                {"settings", {{"hospital_name", "CH"}, {"time_zone", "Europe/Paris"}}}};
  EXPECT_EQ(Call("POST", "/api/setup", setup).status, 403);
  setup["token"] = token;
  setup["admin"]["password"] = "azerty123456";  // long enough, but on the common list
  EXPECT_EQ(Call("POST", "/api/setup", setup).status, 400);
  setup["admin"]["password"] = kPassword;
  setup["settings"]["time_zone"] = "Mars/Olympus";
  EXPECT_EQ(Call("POST", "/api/setup", setup).status, 400);
  setup["settings"]["time_zone"] = "Europe/Paris";
  auto done = Call("POST", "/api/setup", setup);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Body(done)["node"]["fingerprint"], identity_->Fingerprint());
  EXPECT_EQ(Body(done)["node"]["public_key"], identity_->PublicKeyBase64());
  EXPECT_EQ(Body(Call("GET", "/api/setup"))["needed"], false);
  EXPECT_EQ(Call("POST", "/api/setup", setup).status, 409);
  EXPECT_EQ(api_->SetupTokenForTest(), "");
  const WebSession s = SignIn("alice", kPassword);
  auto settings = Call("GET", "/api/settings", nullptr, &s);
  EXPECT_EQ(Body(settings)["hospital_name"], "CH");
}

TEST_F(ApiFixture, SignInSetsAStrictCookieAndANewSessionEachTime) {
  SetUpBox();
  auto reply = Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}});
  ASSERT_EQ(reply.status, 200);
  const std::string cookie = reply.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("Secure"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("eds_session="), 0u);
  EXPECT_EQ(cookie.find(';') - std::string("eds_session=").size(), 64u);
  const WebSession other = SignIn("alice", kPassword);
  EXPECT_NE(other.cookie, admin_.cookie);
  EXPECT_NE(other.csrf, admin_.csrf);
  EXPECT_EQ(reply.headers["content-security-policy"], "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(reply.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(reply.headers["cache-control"], "no-store");
  EXPECT_FALSE(reply.headers["strict-transport-security"].empty());

  EXPECT_EQ(Call("POST", "/api/logout", nullptr, &other).status, 200);
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &other).status, 401);
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &admin_).status, 200);
}

TEST_F(ApiFixture, SessionsEndWhenIdleAndAfterTheAbsoluteLimit) {
  SetUpBox();
  clock_.Advance(std::chrono::minutes(29));
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &admin_).status, 200);
  clock_.Advance(std::chrono::minutes(30));
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &admin_).status, 401);
  WebSession busy = SignIn("alice", kPassword);
  for (int i = 0; i < 24; ++i) {  // 11 h 36 min of activity
    clock_.Advance(std::chrono::minutes(29));
    ASSERT_EQ(Call("GET", "/api/session", nullptr, &busy).status, 200) << i;
  }
  clock_.Advance(std::chrono::minutes(29));  // 12 h 5 min after sign-in
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &busy).status, 401);
}

TEST_F(ApiFixture, WrongPasswordsLockTheAccountOutAndAreAudited) {
  SetUpBox();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        Call("POST", "/api/login", {{"name", "alice"}, {"password", "wrong-password-x"}}).status,
        401);
  }
  auto locked = Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(locked.status, 429);
  EXPECT_FALSE(locked.headers["retry-after"].empty());
  auto audit = Call("GET", "/api/audit?action=auth.lockout", nullptr, &admin_);
  ASSERT_EQ(audit.status, 200);
  ASSERT_EQ(Body(audit)["entries"].size(), 1u) << audit.body;
  EXPECT_EQ(Body(audit)["entries"][0]["object"], "alice");
  clock_.Advance(std::chrono::minutes(16));
  EXPECT_EQ(Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}}).status, 200);
}

// Walks the route table: no route answers without a session (bar login and setup), none answers
// a role it does not list, and none changes state without the CSRF token.
TEST_F(ApiFixture, EveryRouteRefusesNoSessionWrongRoleAndMissingCsrf) {
  SetUpBox();
  const std::map<unsigned, WebSession> by_role = {{kRoleAdmin, admin_},
                                                  {kRoleReviewer, AddAccount("rita", "reviewer")},
                                                  {kRoleViewer, AddAccount("victor", "viewer")}};
  size_t public_routes = 0;
  for (const RouteInfo& route : ApiRoutes()) {
    std::string path(route.pattern);
    for (size_t b; (b = path.find('{')) != std::string::npos;) {
      path.replace(b, path.find('}') - b + 1, "x");
    }
    const std::string method(route.method);
    const json body = method == "GET" ? json(nullptr) : json::object();
    SCOPED_TRACE(method + " " + path);
    if (route.roles == 0) {
      ++public_routes;
      continue;
    }
    EXPECT_EQ(Call(method, path, body).status, 401);
    WebSession forged{"eds_session=" + std::string(64, 'f'), std::string(64, 'f')};
    EXPECT_EQ(Call(method, path, body, &forged).status, 401);
    for (const auto& [bit, session] : by_role) {
      const bool allowed = (route.roles & bit) != 0;
      // The refused role sends the right token, so only its role can be why it is refused.
      auto reply = Call(method, path, body, &session, /*with_csrf=*/!allowed);
      if (!allowed) {
        EXPECT_EQ(reply.status, 403) << bit << " " << reply.body;
      } else if (method != "GET") {
        EXPECT_EQ(reply.status, 403) << bit << " " << reply.body;
        EXPECT_NE(reply.body.find("CSRF"), std::string::npos) << reply.body;
        auto forged_csrf = session;
        forged_csrf.csrf = std::string(64, '0');
        EXPECT_EQ(Call(method, path, body, &forged_csrf).status, 403);
      }
    }
  }
  EXPECT_EQ(public_routes, 3u);  // login, GET and POST setup
  // The sessions still work: the refusals changed nothing.
  EXPECT_EQ(Call("GET", "/api/session", nullptr, &admin_).status, 200);
}

TEST_F(ApiFixture, OnlyAReviewerApprovesAReleaseAndItsTablesShowMaskedCells) {
  SetUpBox();
  const WebSession rita = AddAccount("rita", "reviewer");
  auto computed = Call("POST", "/api/releases", {{"period", "2025-01"}}, &admin_);
  ASSERT_EQ(computed.status, 201) << computed.body;
  const std::string id = Body(computed)["id"];
  auto listed = Call("GET", "/api/releases?state=checked", nullptr, &rita);
  ASSERT_EQ(Body(listed)["releases"].size(), 1u) << listed.body;
  EXPECT_EQ(Call("GET", "/api/releases?state=approved", nullptr, &rita).body, R"({"releases":[]})");
  auto detail = Body(Call("GET", "/api/releases/" + id, nullptr, &rita));
  ASSERT_FALSE(detail["tables"].empty()) << detail.dump();
  EXPECT_EQ(detail["tables"][0]["measure"], "urn:m:stays|1");
  EXPECT_EQ(Call("POST", "/api/releases/" + id + "/approve", {{"comment", "ok"}}, &admin_).status,
            403);
  EXPECT_EQ(Call("POST", "/api/releases/" + id + "/approve", json::object(), &rita).status, 400);
  auto approved = Call("POST", "/api/releases/" + id + "/approve", {{"comment", "vu"}}, &rita);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Body(Call("GET", "/api/releases/" + id, nullptr, &rita))["state"], "approved");
  auto audit = Body(Call("GET", "/api/audit?user=rita&action=release.", nullptr, &rita));
  EXPECT_FALSE(audit["entries"].empty()) << audit.dump();
}

TEST_F(ApiFixture, AFeedTokenIsShownOnceAndRevoked) {
  SetUpBox();
  auto created = Call("POST", "/api/feeds/tokens", {{"name", "dpi"}}, &admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string token = Body(created)["token"];
  EXPECT_EQ(tokens_->Authenticate(token), "dpi");
  auto list = Call("GET", "/api/feeds/tokens", nullptr, &admin_);
  EXPECT_EQ(list.body.find(token), std::string::npos);
  EXPECT_EQ(Call("DELETE", "/api/feeds/tokens/dpi", nullptr, &admin_).status, 200);
  EXPECT_EQ(tokens_->Authenticate(token), std::nullopt);
}

TEST_F(ApiFixture, ObjectionsErasureBackupAndAuditChain) {
  SetUpBox();
  const WebSession rita = AddAccount("rita", "reviewer");
  EXPECT_EQ(Call("POST", "/api/objections", {{"identifier", "urn:oid:1.2.250|123"}}, &rita).status,
            201);
  EXPECT_EQ(Body(Call("GET", "/api/objections", nullptr, &rita))["objections"].size(), 1u);
  EXPECT_EQ(Call("POST", "/api/erasure", {{"identifier", "urn:oid:1.2.250|123"}}, &rita).status,
            400);
  EXPECT_EQ(
      Call("POST", "/api/objections/remove", {{"identifier", "urn:oid:1.2.250|123"}}, &rita).status,
      200);
  auto backup = Call("POST", "/api/system/backup", json::object(), &admin_);
  EXPECT_EQ(backup.status, 200) << backup.body;
  auto verify = Call("POST", "/api/audit/verify", json::object(), &admin_);
  EXPECT_EQ(Body(verify)["intact"], true) << verify.body;
  auto audit = Body(Call("GET", "/api/audit?user=rita&action=objection", nullptr, &admin_));
  EXPECT_EQ(audit["entries"].size(), 2u) << audit.dump();
}

TEST_F(ApiFixture, SettingsAreValidatedAndMetricsAnswerOnLoopback) {
  SetUpBox();
  EXPECT_EQ(Call("PUT", "/api/settings", {{"upstream_url", "http://plain"}}, &admin_).status, 400);
  EXPECT_EQ(Call("PUT", "/api/settings", {{"schedule", "61 * * * *"}}, &admin_).status, 400);
  auto saved = Call("PUT", "/api/settings", {{"schedule", "30 5 * * 1"}}, &admin_);
  EXPECT_EQ(Body(saved)["schedule"], "30 5 * * 1") << saved.body;
  EXPECT_EQ(Body(saved)["hospital_name"], "CH de Test");
  auto metrics = Call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("eds_releases{state=\"checked\"} 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("# TYPE eds_outbox_depth gauge\neds_outbox_depth 0"),
            std::string::npos);
  auto index = Call("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(Call("GET", "/nothing-here.js").status, 404);
}

TEST(PasswordPolicyTest, RefusesShortCommonAndNameEqualPasswords) {
  EXPECT_THAT(CheckPasswordPolicy("short-pass", "a"),
              testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPasswordPolicy("MotDePasse2024", "a"),
              testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPasswordPolicy("administrateur", "x"),
              testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPasswordPolicy("alice.martin.42", "Alice.Martin.42"),
              testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPasswordPolicy("Correct-Horse-Battery-9", "alice"), testing::IsOk());
  auto hash = HashPassword("Correct-Horse-Battery-9", {1, 8192});
  ASSERT_THAT(hash, testing::IsOk());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(*hash, "Correct-Horse-Battery-9"));
  EXPECT_FALSE(VerifyPassword(*hash, "Correct-Horse-Battery-8"));
}

}  // namespace
}  // namespace eds::webadmin
