#include "tests/webadmin/test_server.h"

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "webadmin/tls_certificate.h"

namespace eds::webadmin {

void UseBuiltSslShim() { setenv("EDS_SSL_SHIM", EDS_TEST_SSL_SHIM, /*overwrite=*/0); }

void AdminServerFixture::SetUp() {
  UseBuiltSslShim();
  cert_path_ = dir_.Sub("tls/admin.crt");
  key_path_ = dir_.Sub("tls/admin.key");
  ASSERT_THAT(EnsureDevCertificate(cert_path_, key_path_, "edsbox.test"), testing::IsOk());
  options_.bind_address = "127.0.0.1";
  options_.port = 0;
  options_.cert_path = cert_path_;
  options_.key_path = key_path_;
  options_.request_timeout_ms = 3000;
}

void AdminServerFixture::TearDown() {
  if (server_ != nullptr) server_->Stop();
}

void AdminServerFixture::StartServer() {
  auto started = AdminServer::Start(options_, [] {
    return nlohmann::json{
        {"status", "ok"}, {"version", "1.2.3-test"}, {"checks", {{"store", "ok"}}}};
  });
  ASSERT_THAT(started, testing::IsOk());
  server_ = std::move(started).value();
  ASSERT_NE(server_->port(), 0);
}

testing::TlsClientOptions AdminServerFixture::ClientOptions() const {
  testing::TlsClientOptions o;
  o.trusted_cert_path = cert_path_;
  o.expected_host = "127.0.0.1";
  o.timeout = std::chrono::milliseconds(5000);
  return o;
}

}  // namespace eds::webadmin
