// The upstream client over real TLS on loopback: it trusts only the configured CA and the URL's
// host, honours a key pin, presents a client certificate when the server asks, tunnels through an
// HTTP CONNECT proxy, and bounds its time and the size of what it reads.
#include "sync/upstream_client.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "tests/sync/sync_fixture.h"
#include "tests/testing/fault_proxy.h"
#include "tests/testing/status_matchers.h"

namespace eds::sync {
namespace {

using ::eds::testing::FaultConfig;
using ::eds::testing::FaultMode;
using ::eds::testing::FaultProxy;
using ::eds::testing::StatusIs;
using ::testing::HasSubstr;

// base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as `openssl ... | base64` prints it.
std::string SpkiPinOf(const std::string& cert_path) {
  FILE* f = std::fopen(cert_path.c_str(), "r");
  X509* cert = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
  if (f) std::fclose(f);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, der, static_cast<unsigned long long>(len));
  OPENSSL_free(der);
  X509_free(cert);
  return Base64Encode({reinterpret_cast<const char*>(digest), sizeof digest});
}

class UpstreamClientTest : public SyncFixture {
 protected:
  Result<HttpResponse> Post(const UpstreamOptions& o) {
    auto client = UpstreamClient::Create(o);
    if (!client.ok()) return client.status();
    return (*client)->Post(kReleasesPath, {}, "application/fhir+json", "{}");
  }
  // The hub again, on a second server with other TLS settings.
  uint16_t SecondServer(const std::string& cert_name, const std::string& host,
                        const std::string& client_ca = "") {
    auto cert = eds::testing::MakeServerCert(dir_.path(), cert_name, ca_, host).value();
    webadmin::AdminServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_path = cert.cert_path;
    o.key_path = cert.key_path;
    o.client_ca_path = client_ca;
    second_ = std::move(webadmin::AdminServer::Start(o, [] { return nlohmann::json{}; }).value());
    return second_->port();
  }
  void TearDown() override {
    if (second_) second_->Stop();
    SyncFixture::TearDown();
  }
  std::unique_ptr<webadmin::AdminServer> second_;
};

TEST_F(UpstreamClientTest, TalksToAServerOfTheConfiguredCaAndHost) {
  auto r = Post(ClientOptions(hub_server_->port()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);  // the receiver's answer to a body that is no envelope
  EXPECT_THAT(r->body, HasSubstr("error"));
  EXPECT_EQ(r->headers.count("content-type"), 1u);
}

TEST_F(UpstreamClientTest, RefusesAnotherCaAnotherHostAndAnExpiredCertificate) {
  auto other_ca = eds::testing::MakeTestCa(dir_.path(), "other-ca").value();
  UpstreamOptions o = ClientOptions(hub_server_->port());
  o.ca_file = other_ca.cert_path;
  auto r = Post(o);
  EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(r.status().message(), HasSubstr("unable to get local issuer certificate"));

  auto wrong_host = Post(ClientOptions(SecondServer("named", "hub.example")));
  EXPECT_THAT(wrong_host, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(wrong_host.status().message(), HasSubstr("mismatch"));
}

TEST_F(UpstreamClientTest, AKeyPinMustMatch) {
  UpstreamOptions o = ClientOptions(hub_server_->port());
  o.spki_pin = SpkiPinOf(hub_cert_.cert_path);
  ASSERT_FALSE(o.spki_pin.empty());
  EXPECT_TRUE(Post(o).ok());
  o.spki_pin = SpkiPinOf(ca_.cert_path);  // a real key, not the server's
  auto r = Post(o);
  EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(r.status().message(), HasSubstr("spki_pin"));
}

TEST_F(UpstreamClientTest, PresentsAClientCertificateWhenTheServerRequiresOne) {
  const uint16_t port = SecondServer("mtls", "127.0.0.1", ca_.cert_path);
  UpstreamOptions o = ClientOptions(port);
  EXPECT_FALSE(Post(o).ok());  // no client certificate: the server ends the handshake
  auto client = eds::testing::MakeServerCert(dir_.path(), "node", ca_, "node.example").value();
  o.client_cert = client.cert_path;
  o.client_key = client.key_path;
  auto r = Post(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);  // the second server has no routes: TLS went through
}

TEST_F(UpstreamClientTest, TunnelsThroughAConnectProxy) {
  auto proxy = FaultProxy::Start(hub_server_->port()).value();
  ASSERT_TRUE(proxy->SetMode(FaultConfig::ConnectTunnel()).ok());
  UpstreamOptions o = ClientOptions(hub_server_->port());
  o.proxy_url = "http://127.0.0.1:" + std::to_string(proxy->port());
  auto r = Post(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(proxy->ConnectionsSeen(FaultMode::kConnectTunnel), 1);
  // A proxy that refuses the tunnel is reported as such.
  o.url = "https://127.0.0.1:1";
  auto refused = Post(o);
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(refused.status().message(), HasSubstr("refused the tunnel"));
}

TEST_F(UpstreamClientTest, TimeLimitsAndTheResponseBoundHold) {
  auto proxy = FaultProxy::Start(hub_server_->port()).value();
  ASSERT_TRUE(proxy->SetMode(FaultConfig::Delay(std::chrono::milliseconds(3000))).ok());
  UpstreamOptions o = ClientOptions(proxy->port());
  o.read_timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(Post(o), StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  o.read_timeout = std::chrono::milliseconds(5000);
  o.total_timeout = std::chrono::milliseconds(400);
  EXPECT_THAT(Post(o), StatusIs(StatusCode::kDeadlineExceeded));

  UpstreamOptions small = ClientOptions(hub_server_->port());
  small.max_response_bytes = 8;
  EXPECT_THAT(Post(small), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(Post(ClientOptions(1)), StatusIs(StatusCode::kUnavailable));  // nobody listens
}

TEST_F(UpstreamClientTest, BadOptionsNameTheSetting) {
  UpstreamOptions o = ClientOptions(hub_server_->port());
  o.url = "http://127.0.0.1:1/";
  EXPECT_THAT(UpstreamClient::Create(o).status().message(), HasSubstr("sync.upstream_url"));
  o = ClientOptions(hub_server_->port());
  o.ca_file = dir_.Sub("missing.pem");
  EXPECT_THAT(UpstreamClient::Create(o).status().message(), HasSubstr("sync.ca_file"));
  o = ClientOptions(hub_server_->port());
  o.spki_pin = "abc";
  EXPECT_THAT(UpstreamClient::Create(o).status().message(), HasSubstr("sync.spki_pin"));
  o = ClientOptions(hub_server_->port());
  o.client_cert = hub_cert_.cert_path;
  EXPECT_THAT(UpstreamClient::Create(o).status().message(), HasSubstr("client_key"));
  o.client_key = ca_.key_path;  // not the certificate's key
  EXPECT_THAT(UpstreamClient::Create(o).status().message(), HasSubstr("sync.client_key"));
  o = ClientOptions(hub_server_->port());
  o.proxy_url = "http://user:secret@127.0.0.1:3128";
  auto bad = UpstreamClient::Create(o);
  EXPECT_THAT(bad.status().message(), HasSubstr("sync.proxy_url"));
  EXPECT_THAT(bad.status().message(), ::testing::Not(HasSubstr("secret")));
}

TEST(ParseUrlTest, HostsPortsAndPaths) {
  auto u = ParseUrl("https://hub.example.fr/eds/v1").value();
  EXPECT_EQ(u.host, "hub.example.fr");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.path, "/eds/v1");
  u = ParseUrl("HTTPS://[::1]:9444").value();
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9444");
  EXPECT_EQ(u.path, "/");
  EXPECT_FALSE(ParseUrl("ftp://x").ok());
  EXPECT_FALSE(ParseUrl("https://").ok());
  EXPECT_FALSE(ParseUrl("https://h:70000").ok());
  EXPECT_FALSE(ParseUrl("https://h/#frag").ok());
}

}  // namespace
}  // namespace eds::sync
