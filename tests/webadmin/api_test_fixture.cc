#include "tests/webadmin/api_test_fixture.h"

#include <sodium.h>

#include "daemon/master_key.h"
#include "storage/secret_key.h"
#include "tests/testing/status_matchers.h"
#include "webadmin/tls_certificate.h"

namespace eds::webadmin {

void ApiFixture::SetUp() {
  AdminServerFixture::SetUp();
  storage::StoreOptions so;
  so.data_dir = dir_.Sub("data");
  master_key_file_ = dir_.Sub("master.key");
  ASSERT_THAT(storage::WriteKeyFile(master_key_file_, storage::SecretKey::Random()),
              testing::IsOk());
  auto key = storage::ReadKeyFile(master_key_file_);
  ASSERT_THAT(key, testing::IsOk());
  auto store = storage::Store::Open(so, std::move(key).value());
  ASSERT_THAT(store, testing::IsOk());
  store_ = std::move(store).value();
  auto secret = store_->Secret("pseudonym");
  ASSERT_THAT(secret, testing::IsOk());
  pseudonymizer_ = std::make_unique<ingest::Pseudonymizer>(std::move(secret).value());
  tokens_ = std::move(ingest::FhirTokens::Load(*store_).value());
  objections_ = std::move(ingest::ObjectionRegister::Load(*store_, *pseudonymizer_).value());
  auto pack = aggregate::ParseMeasurePack(R"({"pack":"t","version":"1","title":"t","measures":[
      {"url":"urn:m:stays","version":"1","title":"stays","count":"events",
       "population":{"resource":"Encounter"},
       "stratifiers":[{"id":"sex","components":["sex"]}]}]})");
  ASSERT_THAT(pack, testing::IsOk());
  packs_ = {*pack};
  releases_ = std::make_unique<aggregate::ReleaseBook>(*store_, clock_);
  identity_ =
      std::make_unique<sync::NodeIdentity>(std::move(sync::NodeIdentity::Load(*store_).value()));
  outbox_ = std::make_unique<sync::Outbox>(*store_, *releases_, *identity_, clock_);
  ASSERT_THAT(outbox_->Load(), testing::IsOk());

  AdminContext ctx;
  ctx.store = store_.get();
  ctx.tokens = tokens_.get();
  ctx.objections = objections_.get();
  ctx.pseudonymizer = pseudonymizer_.get();
  ctx.releases = releases_.get();
  ctx.packs = [this] {
    return std::make_shared<const std::vector<aggregate::MeasurePack>>(packs_);
  };
  ctx.identity = identity_.get();
  ctx.outbox = outbox_.get();
  ctx.version = "9.9.9-test";
  admin_cert_ = dir_.Sub("admin-tls/admin.crt");
  admin_key_ = dir_.Sub("admin-tls/admin.key");
  ASSERT_THAT(EnsureDevCertificate(admin_cert_, admin_key_, "eds-node"), testing::IsOk());
  ctx.ingest_errors = &ingest_errors_;
  ctx.admin_tls_cert = admin_cert_;
  ctx.admin_tls_key = admin_key_;
  // The daemon's own rotation with a dev key file, as `edsctl rotate-key` runs it.
  ctx.rotate_master_key = [this](const storage::AuditEvent& event) {
    daemon::StorageConfig config;
    config.master_key_file = master_key_file_;
    return daemon::RotateMasterKey(config, *store_, "", event);
  };
  ctx_ = ctx;
  api_options_.clock = &clock_;
  // The cheapest Argon2id settings keep the tests fast; production uses the interactive ones.
  api_options_.password_cost = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
  api_options_.backup_dir = dir_.Sub("backups");
  StartApi();
}

void ApiFixture::RestartApi() {
  server_->Stop();
  server_.reset();
  api_.reset();
  StartApi();
}

void ApiFixture::StartApi() {
  auto api = Api::Create(ctx_, api_options_);
  ASSERT_THAT(api, testing::IsOk());
  api_ = std::move(api).value();
  StartServer();
  api_->Register(*server_);
}

void ApiFixture::TearDown() {
  AdminServerFixture::TearDown();
  api_.reset();
}

testing::HttpReply ApiFixture::Call(const std::string& method, const std::string& path,
                                    const nlohmann::json& body, const WebSession* session,
                                    bool with_csrf) {
  std::string headers;
  std::string text;
  if (!body.is_null()) {
    text = body.dump();
    headers += "Content-Type: application/json\r\n";
  }
  if (session != nullptr) {
    headers += "Cookie: " + session->cookie + "\r\n";
    if (with_csrf) headers += "X-CSRF-Token: " + session->csrf + "\r\n";
  }
  testing::TlsHttpClient client(ClientOptions());
  auto reply = client.Request(server_->port(), method, path, text, headers);
  EXPECT_THAT(reply, testing::IsOk());
  return reply.ok() ? *reply : testing::HttpReply{};
}

void ApiFixture::SetUpBox() {
  const nlohmann::json setup = {
      {"token", api_->SetupTokenForTest()},
      {"admin", {{"name", "alice"}, {"password", kPassword}, {"language", "fr"}}},
      {"settings",
       {{"hospital_name", "CH de Test"},
        {"time_zone", "Europe/Paris"},
        {"upstream_url", "https://hub.example.org/releases"},
        {"schedule", "0 6 * * *"}}}};
  auto reply = Call("POST", "/api/setup", setup);
  ASSERT_EQ(reply.status, 200) << reply.body;
  admin_ = SignIn("alice", kPassword);
}

WebSession ApiFixture::SignIn(const std::string& name, const std::string& password) {
  auto reply = Call("POST", "/api/login", {{"name", name}, {"password", password}});
  EXPECT_EQ(reply.status, 200) << reply.body;
  WebSession s;
  const std::string cookie = reply.headers["set-cookie"];
  s.cookie = cookie.substr(0, cookie.find(';'));
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_object()) s.csrf = j.value("csrf_token", "");
  return s;
}

WebSession ApiFixture::AddAccount(const std::string& name, const std::string& role) {
  auto reply = Call("POST", "/api/users", {{"name", name}, {"role", role}, {"password", kPassword}},
                    &admin_);
  EXPECT_EQ(reply.status, 201) << reply.body;
  return SignIn(name, kPassword);
}

}  // namespace eds::webadmin
