// The admin API over real HTTPS: first-boot setup, sign-in and sessions, lockout, roles, CSRF,
// and the routes the UI uses.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "storage/secret_key.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "tests/webadmin/api_test_fixture.h"
#include "webadmin/auth/password.h"
#include "webadmin/tls_certificate.h"

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

// The counts and the lockout are in the store: restarting the daemon neither lifts a lockout
// nor forgets failures already counted.
TEST_F(ApiFixture, ALockoutAndTheFailureCountsSurviveARestart) {
  SetUpBox();
  const json wrong = {{"name", "alice"}, {"password", "wrong-password-x"}};
  const json bob_wrong = {{"name", "bob"}, {"password", "wrong-password-x"}};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("POST", "/api/login", wrong).status, 401);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Call("POST", "/api/login", bob_wrong).status, 401);
  RestartApi();
  EXPECT_EQ(Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}}).status, 429);
  // bob had four failures: the fifth, after the restart, locks him out.
  EXPECT_EQ(Call("POST", "/api/login", bob_wrong).status, 401);
  EXPECT_EQ(Call("POST", "/api/login", bob_wrong).status, 429);
  clock_.Advance(std::chrono::minutes(16));
  RestartApi();
  EXPECT_EQ(Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}}).status, 200);
  // A sign-in clears the count, and the cleared count is what the next restart finds.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Call("POST", "/api/login", wrong).status, 401);
  EXPECT_EQ(Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}}).status, 200);
  RestartApi();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Call("POST", "/api/login", wrong).status, 401);
  EXPECT_EQ(Call("POST", "/api/login", {{"name", "alice"}, {"password", kPassword}}).status, 200);
}

// The dashboard's charts: a point a minute for the last day, an hourly one kept in the store for
// months, so a restart keeps the growth seen so far.
TEST_F(ApiFixture, TheDashboardHistoryKeepsHourlyPointsAcrossARestart) {
  SetUpBox();
  api_->RecordStats();
  const int64_t first = UnixMillis(clock_.Now());
  clock_.Advance(std::chrono::seconds(30));
  api_->RecordStats();  // within the minute: no new point
  clock_.Advance(std::chrono::seconds(31));
  api_->RecordStats();
  auto status = Body(Call("GET", "/api/status", nullptr, &admin_));
  ASSERT_EQ(status["history"].size(), 2u) << status.dump();
  EXPECT_EQ(status["history"][0]["t"], first);
  EXPECT_GT(status["history"][0]["disk_bytes"].get<uint64_t>(), 0u);
  for (int i = 0; i < 3; ++i) {  // three hours later, one point a minute
    for (int m = 0; m < 60; ++m) {
      clock_.Advance(std::chrono::minutes(1));
      api_->RecordStats();
    }
  }
  admin_ = SignIn("alice", kPassword);  // the first session timed out meanwhile
  EXPECT_EQ(Body(Call("GET", "/api/status", nullptr, &admin_))["history"].size(), 182u);
  clock_.Advance(std::chrono::minutes(10));
  RestartApi();
  admin_ = SignIn("alice", kPassword);
  // The minute points went with the old process; the hourly ones (the first, then one each hour)
  // came back, with a new minute point taken by this request.
  status = Body(Call("GET", "/api/status", nullptr, &admin_));
  ASSERT_EQ(status["history"].size(), 5u) << status.dump();
  EXPECT_EQ(status["history"][0]["t"], first);
  for (size_t i = 1; i < 4; ++i) {
    const int64_t gap =
        status["history"][i]["t"].get<int64_t>() - status["history"][i - 1]["t"].get<int64_t>();
    EXPECT_GE(gap, 3'600'000) << status.dump();
    EXPECT_LT(gap, 3'700'000) << status.dump();
  }
  EXPECT_EQ(status["history"][4]["t"], UnixMillis(clock_.Now()));
  auto audit = Call("GET", "/api/audit?action=stats.sample", nullptr, &admin_);
  EXPECT_EQ(Body(audit)["entries"].size(), 4u) << audit.body;
  // A day of minute points is thinned to what a chart can draw, the newest point kept.
  for (int m = 0; m < 1000; ++m) {
    clock_.Advance(std::chrono::minutes(1));
    api_->RecordStats();
  }
  admin_ = SignIn("alice", kPassword);
  status = Body(Call("GET", "/api/status", nullptr, &admin_));
  ASSERT_EQ(status["history"].size(), 400u);
  EXPECT_EQ(status["history"][0]["t"], first);
  EXPECT_EQ(status["history"][399]["t"], UnixMillis(clock_.Now()));
}

// The dashboard's alerts: what needs a person, most urgent first, in words the UI translates.
TEST_F(ApiFixture, TheDashboardAlertsOnAnUnsetUpstreamRefusedMessagesAndFreeSpace) {
  SetUpBox();
  auto status = Body(Call("GET", "/api/status", nullptr, &admin_));
  EXPECT_GT(status["store"]["disk_free_bytes"].get<uint64_t>(), 0u) << status.dump();
  EXPECT_GE(status["store"]["disk_total_bytes"].get<uint64_t>(),
            status["store"]["disk_free_bytes"].get<uint64_t>());
  auto codes = [](const json& alerts) {
    std::map<std::string, json> out;
    for (const json& a : alerts) out[a["code"].get<std::string>()] = a;
    return out;
  };
  auto alerts = codes(status["alerts"]);
  ASSERT_EQ(alerts.count("sync_off"), 1u) << status.dump();  // no upstream URL in this setup
  EXPECT_EQ(alerts["sync_off"]["level"], "warning");
  EXPECT_EQ(alerts.count("feed_refusals"), 0u);
  EXPECT_EQ(status["feeds"]["mllp_enabled"], false);

  ingest_errors_.Add(
      {UnixMillis(clock_.Now()), "mllp", "mllp 10.1.2.3", "AE", "PID(1)-3: missing"});
  ingest_errors_.Add({UnixMillis(clock_.Now()), "fhir", "token lab", "422", "Patient.birthDate"});
  alerts = codes(Body(Call("GET", "/api/status", nullptr, &admin_))["alerts"]);
  ASSERT_EQ(alerts.count("feed_refusals"), 1u);
  EXPECT_EQ(alerts["feed_refusals"]["detail"], 2);
  // A day later the refusals are history, no longer an alert.
  clock_.Advance(std::chrono::hours(25));
  admin_ = SignIn("alice", kPassword);
  alerts = codes(Body(Call("GET", "/api/status", nullptr, &admin_))["alerts"]);
  EXPECT_EQ(alerts.count("feed_refusals"), 0u);
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
  // The dashboard tells the reviewer a release waits.
  const json review_alert = {{"code", "releases_to_review"}, {"level", "info"}, {"detail", 1}};
  const json alerts = Body(Call("GET", "/api/status", nullptr, &rita))["alerts"];
  EXPECT_NE(std::find(alerts.begin(), alerts.end(), review_alert), alerts.end()) << alerts.dump();
  auto detail = Body(Call("GET", "/api/releases/" + id, nullptr, &rita));
  ASSERT_FALSE(detail["tables"].empty()) << detail.dump();
  EXPECT_EQ(detail["tables"][0]["measure"], "urn:m:stays|1");
  EXPECT_EQ(Call("POST", "/api/releases/" + id + "/approve", {{"comment", "ok"}}, &admin_).status,
            403);
  EXPECT_EQ(Call("POST", "/api/releases/" + id + "/approve", json::object(), &rita).status, 400);
  auto approved = Call("POST", "/api/releases/" + id + "/approve", {{"comment", "vu"}}, &rita);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Body(Call("GET", "/api/releases/" + id, nullptr, &rita))["state"], "approved");
  const json after = Body(Call("GET", "/api/status", nullptr, &rita))["alerts"];
  EXPECT_EQ(std::find(after.begin(), after.end(), review_alert), after.end()) << after.dump();
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

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST_F(ApiFixture, AnUploadedCertificateIsCheckedBeforeItReplacesTheAdminOne) {
  SetUpBox();
  const std::string live_cert = testing::ReadFileOrDie(admin_cert_);
  const std::string live_key = testing::ReadFileOrDie(admin_key_);
  const std::string fresh_cert = dir_.Sub("fresh/box.crt");
  const std::string fresh_key = dir_.Sub("fresh/box.key");
  const std::string other_key = dir_.Sub("other/other.key");
  ASSERT_THAT(EnsureDevCertificate(fresh_cert, fresh_key, "box.example.org"), testing::IsOk());
  ASSERT_THAT(EnsureDevCertificate(dir_.Sub("other/other.crt"), other_key, "other"),
              testing::IsOk());
  const std::string cert_pem = testing::ReadFileOrDie(fresh_cert);
  const std::string key_pem = testing::ReadFileOrDie(fresh_key);
  const auto expired = testing::MakeSelfSignedCert(dir_.path(), "old", "127.0.0.1",
                                                   testing::CertValidity::Expired());
  ASSERT_THAT(expired, testing::IsOk());
  const auto ca = testing::MakeTestCa(dir_.path(), "ca");
  ASSERT_THAT(ca, testing::IsOk());
  auto pair = [](const testing::CertFiles& f) {
    return json{{"cert_pem", testing::ReadFileOrDie(f.cert_path)},
                {"key_pem", testing::ReadFileOrDie(f.key_path)}};
  };

  const json refused[] = {
      {{"cert_pem", "garbage"}, {"key_pem", "garbage"}},
      {{"cert_pem", cert_pem}, {"key_pem", testing::ReadFileOrDie(other_key)}},
      {{"cert_pem", key_pem}, {"key_pem", key_pem}},
      {{"cert_pem", cert_pem}},
      pair(*expired),
      pair(*ca),
  };
  std::vector<std::string> answers;
  for (const json& body : refused) {
    auto reply = Call("POST", "/api/system/certificate", body, &admin_);
    EXPECT_EQ(reply.status, 400) << reply.body;
    answers.push_back(reply.body);
    EXPECT_EQ(testing::ReadFileOrDie(admin_cert_), live_cert);
    EXPECT_EQ(testing::ReadFileOrDie(admin_key_), live_key);
    EXPECT_EQ(FilesIn(dir_.Sub("admin-tls")), 2u);  // no staged file left behind
  }
  EXPECT_NE(answers[1].find("does not match"), std::string::npos) << answers[1];
  EXPECT_NE(answers[4].find("expired"), std::string::npos) << answers[4];
  EXPECT_NE(answers[5].find("CA certificate"), std::string::npos) << answers[5];

  auto done = Call("POST", "/api/system/certificate",
                   {{"cert_pem", cert_pem}, {"key_pem", key_pem}}, &admin_);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Body(done)["restart_needed"], true);
  EXPECT_EQ(Body(done)["fingerprint"], CertificateFingerprintSha256(fresh_cert).value());
  EXPECT_EQ(testing::ReadFileOrDie(admin_cert_), cert_pem);
  EXPECT_EQ(testing::ReadFileOrDie(admin_key_), key_pem);
  EXPECT_EQ(FilesIn(dir_.Sub("admin-tls")), 2u);
  struct stat st {};
  ASSERT_EQ(stat(admin_key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto audit = Body(Call("GET", "/api/audit?action=admin.tls", nullptr, &admin_));
  // The five refusals with both fields sent, and the replacement.
  ASSERT_EQ(audit["entries"].size(), 6u) << audit.dump();
  EXPECT_EQ(audit["entries"][0]["action"], "admin.tls.replace") << audit.dump();
}

TEST_F(ApiFixture, RotatingTheMasterKeyRewrapsTheStoreUnderANewKeyFile) {
  SetUpBox();
  const std::string old_key_hex = testing::ReadFileOrDie(master_key_file_);
  const std::string old_id = store_->MasterKeyId();
  auto reply = Call("POST", "/api/system/rotate-key", json::object(), &admin_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(testing::ReadFileOrDie(master_key_file_), old_key_hex);
  EXPECT_FALSE(std::filesystem::exists(master_key_file_ + ".new"));
  EXPECT_NE(Body(reply)["master_key_id"], old_id);
  EXPECT_EQ(Body(reply)["master_key_id"], store_->MasterKeyId());
  // A backup taken now opens with the key in the file, and no longer with the old key.
  auto backup = store_->Backup(dir_.Sub("after"), {"test", "store.backup", "", ""});
  ASSERT_THAT(backup, testing::IsOk());
  const std::string copy = dir_.Sub("copy");
  std::filesystem::copy(*backup, copy, std::filesystem::copy_options::recursive);
  storage::StoreOptions so;
  so.data_dir = *backup;
  {
    std::FILE* f = std::fopen(dir_.Sub("old.key").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(old_key_hex.c_str(), f);
    std::fclose(f);
  }
  auto old_key = storage::ReadKeyFile(dir_.Sub("old.key"));
  ASSERT_THAT(old_key, testing::IsOk());
  EXPECT_FALSE(storage::Store::Open(so, std::move(old_key).value()).ok());
  so.data_dir = copy;
  EXPECT_THAT(storage::Store::Open(so, storage::ReadKeyFile(master_key_file_).value()),
              testing::IsOk());
  auto audit = Body(Call("GET", "/api/audit?action=key.rotate", nullptr, &admin_));
  ASSERT_FALSE(audit["entries"].empty()) << audit.dump();
  EXPECT_EQ(audit["entries"][0]["actor"], "admin:alice") << audit.dump();
}

TEST_F(ApiFixture, TheFeedsViewListsTheLastRefusalsNewestFirst) {
  SetUpBox();
  ingest_errors_.Add({1767225600000, "mllp", "mllp 10.1.2.3", "AE", "PID(1)-3: missing"});
  ingest_errors_.Add(
      {1767225660000, "fhir", "fhir lab 10.1.2.4", "422", "value: at Patient.gender"});
  auto reply = Call("GET", "/api/feeds", nullptr, &admin_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json j = Body(reply);
  EXPECT_EQ(j["mllp"], json({{"enabled", false}}));
  ASSERT_EQ(j["errors"].size(), 2u);
  EXPECT_EQ(j["errors"][0]["feed"], "fhir");
  EXPECT_EQ(j["errors"][0]["code"], "422");
  EXPECT_EQ(j["errors"][0]["at"], "2026-01-01T00:01:00.000Z");
  EXPECT_EQ(j["errors"][1]["reason"], "PID(1)-3: missing");
  EXPECT_EQ(j["errors"][1]["source"], "mllp 10.1.2.3");
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
