// MllpListener with TLS: real OpenSSL clients on TLS 1.2 and 1.3 exchange messages; a plain TCP
// client on the TLS port gets nothing.
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "ingest/mllp/listener.h"
#include "tests/ingest/mllp/listener_test_util.h"
#include "tests/ingest/mllp/mllp_test_client.h"
#include "tests/ingest/mllp/test_sinks.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "webadmin/tls_certificate.h"

namespace eds::ingest::testing {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

class MllpListenerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_path_ = dir_.Sub("tls/mllp.crt");
    key_path_ = dir_.Sub("tls/mllp.key");
    ASSERT_THAT(webadmin::EnsureDevCertificate(cert_path_, key_path_, "edsbox.test"), IsOk());
    options_ = LoopbackOptions();
    options_.tls_cert_path = cert_path_;
    options_.tls_key_path = key_path_;
  }

  MllpClientOptions TlsClient(int version) const {
    MllpClientOptions o;
    o.tls = true;
    o.trusted_cert_path = cert_path_;
    o.tls_min_version = version;
    o.tls_max_version = version;
    return o;
  }

  ::eds::testing::TempDir dir_;
  std::string cert_path_;
  std::string key_path_;
  MllpListenerOptions options_;
};

TEST_F(MllpListenerTlsTest, Tls12And13ClientsExchangeMessages) {
  RecordingSink sink;
  auto listener = StartListener(options_, sink);
  ASSERT_NE(listener, nullptr);
  for (const auto& [version, name] :
       {std::pair{TLS1_2_VERSION, "TLSv1.2"}, std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
    Result<std::unique_ptr<MllpTestClient>> client =
        MllpTestClient::Connect(listener->port(), TlsClient(version));
    ASSERT_THAT(client, IsOk()) << name;
    EXPECT_EQ((*client)->tls_version(), name);
    EXPECT_EQ(ExchangeMany(**client, name, 20), "");
  }
  ASSERT_EQ(sink.count(), 40u);
  EXPECT_TRUE(sink.received()[0].peer.tls);
}

TEST_F(MllpListenerTlsTest, ConcurrentTlsConnectionsKeepTheirOrder) {
  DelayingSink sink(std::chrono::milliseconds(5));
  auto listener = StartListener(options_, sink);
  ASSERT_NE(listener, nullptr);
  const uint16_t port = listener->port();
  const MllpClientOptions client_options = TlsClient(0);
  const auto failures = RunClients(4, [&](int i) -> std::string {
    auto client = MllpTestClient::Connect(port, client_options);
    if (!client.ok()) return client.status().ToString();
    return ExchangeMany(**client, "T" + std::to_string(i), 50);
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(sink.max_in_flight_per_connection(), 1);
}

TEST_F(MllpListenerTlsTest, PlainClientOnTheTlsPortGetsNoAck) {
  RecordingSink sink;
  auto listener = StartListener(options_, sink);
  ASSERT_NE(listener, nullptr);
  Result<std::unique_ptr<MllpTestClient>> plain = MllpTestClient::Connect(listener->port());
  ASSERT_THAT(plain, IsOk());
  ASSERT_THAT((*plain)->Send(TestMessage("PLAIN")), IsOk());
  EXPECT_FALSE((*plain)->ReadMessage().ok());
  EXPECT_TRUE((*plain)->WaitForClose(std::chrono::seconds(3)));
  EXPECT_EQ(sink.count(), 0u);
  EXPECT_EQ(listener->stats().tls_handshake_failures, 1u);
}

TEST_F(MllpListenerTlsTest, StalledHandshakeIsClosedAfterTheReadTimeout) {
  RecordingSink sink;
  options_.read_timeout = std::chrono::milliseconds(300);
  auto listener = StartListener(options_, sink);
  ASSERT_NE(listener, nullptr);
  Result<std::unique_ptr<MllpTestClient>> silent = MllpTestClient::Connect(listener->port());
  ASSERT_THAT(silent, IsOk());
  EXPECT_TRUE((*silent)->WaitForClose(std::chrono::seconds(3)));
  EXPECT_EQ(listener->stats().read_timeouts, 1u);
}

TEST_F(MllpListenerTlsTest, StartFailsOnAnUnreadableCertificate) {
  EchoSink sink;
  options_.tls_cert_path = dir_.Sub("missing.crt");
  EXPECT_THAT(MllpListener::Start(options_, sink), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(MllpListenerTlsTest, StartFailsWhenTheKeyDoesNotMatchTheCertificate) {
  EchoSink sink;
  const std::string other_cert = dir_.Sub("other/mllp.crt");
  const std::string other_key = dir_.Sub("other/mllp.key");
  ASSERT_THAT(webadmin::EnsureDevCertificate(other_cert, other_key, "other.test"), IsOk());
  options_.tls_key_path = other_key;
  EXPECT_THAT(MllpListener::Start(options_, sink), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eds::ingest::testing
