// Real TLS handshakes against AdminServer: protocol floor, cipher policy, health over HTTPS with
// its security headers, and concurrent clients.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/testing/status_matchers.h"
#include "tests/testing/tls_client.h"
#include "tests/webadmin/test_server.h"

namespace eds::webadmin {
namespace {

using ::eds::testing::HttpReply;
using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::eds::testing::TlsHttpClient;

class AdminServerTlsTest : public AdminServerFixture {};

void ExpectSecurityHeaders(const HttpReply& reply) {
  EXPECT_EQ(reply.headers.at("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(reply.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(reply.headers.at("content-security-policy"),
            "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(reply.headers.at("referrer-policy"), "no-referrer");
}

TEST_F(AdminServerTlsTest, HealthAnswersJsonWithSecurityHeadersOverTls13) {
  StartServer();
  auto options = ClientOptions();
  options.min_version = TLS1_3_VERSION;
  auto reply = TlsHttpClient(options).Request(server_->port(), "GET", "/api/health");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->tls_version, "TLSv1.3");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers.at("content-type"), "application/json");
  EXPECT_EQ(reply->headers.at("cache-control"), "no-store");
  ExpectSecurityHeaders(*reply);
  nlohmann::json body = nlohmann::json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(body.is_discarded()) << reply->body;
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["version"], "1.2.3-test");
  EXPECT_EQ(body["checks"]["store"], "ok");
}

TEST_F(AdminServerTlsTest, ServesTls12WithEcdheAeadCipherOnly) {
  StartServer();
  auto options = ClientOptions();
  options.min_version = TLS1_2_VERSION;
  options.max_version = TLS1_2_VERSION;
  auto reply = TlsHttpClient(options).Request(server_->port(), "GET", "/api/health");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->tls_version, "TLSv1.2");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->cipher.rfind("ECDHE-", 0), 0u) << reply->cipher;
  EXPECT_TRUE(reply->cipher.find("GCM") != std::string::npos ||
              reply->cipher.find("CHACHA20") != std::string::npos)
      << reply->cipher;
}

TEST_F(AdminServerTlsTest, RefusesClientCappedAtTls11) {
  StartServer();
  auto options = ClientOptions();
  options.allow_legacy = true;  // Otherwise OpenSSL 3 would not even offer TLS 1.1.
  options.max_version = TLS1_1_VERSION;
  EXPECT_THAT(TlsHttpClient(options).Handshake(server_->port()),
              StatusIs(StatusCode::kUnavailable));
  // The refusal leaves the server healthy.
  EXPECT_THAT(TlsHttpClient(ClientOptions()).Request(server_->port(), "GET", "/api/health"),
              IsOk());
}

TEST_F(AdminServerTlsTest, RefusesTls12ClientOfferingOnlyCbcCiphers) {
  StartServer();
  auto options = ClientOptions();
  options.max_version = TLS1_2_VERSION;
  options.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA";
  EXPECT_THAT(TlsHttpClient(options).Handshake(server_->port()),
              StatusIs(StatusCode::kUnavailable));
}

TEST_F(AdminServerTlsTest, ClientVerifiesTheDevCertificateForLoopbackAndRejectsOtherNames) {
  StartServer();
  auto options = ClientOptions();
  options.expected_host = "localhost";
  EXPECT_THAT(TlsHttpClient(options).Handshake(server_->port()), IsOk());
  options.expected_host = "other.example";
  EXPECT_THAT(TlsHttpClient(options).Handshake(server_->port()),
              StatusIs(StatusCode::kUnavailable));
}

TEST_F(AdminServerTlsTest, ServesManyConcurrentClients) {
  StartServer();
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 20;
  std::atomic<int> ok_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      TlsHttpClient client(ClientOptions());
      for (int i = 0; i < kRequestsPerThread; ++i) {
        auto reply = client.Request(server_->port(), "GET", "/api/health");
        if (reply.ok() && reply->status == 200 && reply->body.find("\"ok\"") != std::string::npos) {
          ++ok_count;
        } else if (!reply.ok()) {
          ADD_FAILURE() << reply.status().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok_count.load(), kThreads * kRequestsPerThread);
}

}  // namespace
}  // namespace eds::webadmin
