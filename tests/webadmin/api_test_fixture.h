// A real admin API over HTTPS on loopback: a store in a fresh directory, the node's registers,
// release book and outbox around it, the Api on an AdminServer, and a manual clock for session
// and lockout timeouts. Helpers sign in and call routes with the session cookie and CSRF token.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aggregate/measure_pack.h"
#include "aggregate/release.h"
#include "ingest/fhir_tokens.h"
#include "ingest/ingest_errors.h"
#include "ingest/objection_register.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "sync/outbox.h"
#include "tests/testing/manual_clock.h"
#include "tests/testing/tls_client.h"
#include "tests/webadmin/test_server.h"
#include "webadmin/api/api.h"

namespace eds::webadmin {

struct WebSession {
  std::string cookie;  // "eds_session=..."
  std::string csrf;
};

class ApiFixture : public AdminServerFixture {
 protected:
  void SetUp() override;
  void TearDown() override;

  // One HTTPS request; `session` adds its cookie and, when `with_csrf`, its CSRF token.
  testing::HttpReply Call(const std::string& method, const std::string& path,
                          const nlohmann::json& body = nullptr, const WebSession* session = nullptr,
                          bool with_csrf = true);
  // A daemon restart as the admin API sees it: a new Api and server over the same store (every
  // session ends; what the Api keeps in the store stays).
  void RestartApi();
  // Makes the Api from ctx_ and api_options_ and serves it.
  void StartApi();
  // Runs first-boot setup with admin "alice".
  void SetUpBox();
  WebSession SignIn(const std::string& name, const std::string& password);
  // Creates the account (as alice) and signs it in.
  WebSession AddAccount(const std::string& name, const std::string& role);

  static constexpr const char* kPassword = "Correct-Horse-Battery-9";

  testing::ManualClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ingest::Pseudonymizer> pseudonymizer_;
  std::unique_ptr<ingest::FhirTokens> tokens_;
  std::unique_ptr<ingest::ObjectionRegister> objections_;
  std::vector<aggregate::MeasurePack> packs_;
  std::unique_ptr<aggregate::ReleaseBook> releases_;
  std::unique_ptr<sync::NodeIdentity> identity_;
  std::unique_ptr<sync::Outbox> outbox_;
  AdminContext ctx_;
  ApiOptions api_options_;
  std::unique_ptr<Api> api_;
  WebSession admin_;
  // The store's master key file (what RotateMasterKey replaces) and the admin certificate pair
  // the API may replace (distinct from the one this test server serves).
  std::string master_key_file_;
  ingest::IngestErrorLog ingest_errors_;
  std::string admin_cert_;
  std::string admin_key_;
};

}  // namespace eds::webadmin
