// Load run of the listener alone with the echo sink: messages per second with 1 and 8
// connections, each client waiting for every ACK before sending the next message (HL7 original
// mode). Bounded message counts; prints the figures and asserts only correctness, never timing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ingest/mllp/listener.h"
#include "tests/ingest/mllp/listener_test_util.h"
#include "tests/ingest/mllp/mllp_test_client.h"
#include "tests/ingest/mllp/test_sinks.h"
#include "tests/testing/temp_dir.h"
#include "webadmin/tls_certificate.h"

namespace eds::ingest::testing {
namespace {

constexpr int kTotalMessages = 16000;
constexpr size_t kMessageBytes = 1000;

// Returns messages per second, or a negative number after reporting a failure.
double Measure(const MllpListener& listener, int connections, const MllpClientOptions& options) {
  const uint16_t port = listener.port();
  const int per_connection = kTotalMessages / connections;
  const auto start = std::chrono::steady_clock::now();
  const auto failures = RunClients(connections, [&](int i) -> std::string {
    auto client = MllpTestClient::Connect(port, options);
    if (!client.ok()) return client.status().ToString();
    return ExchangeMany(**client, "L" + std::to_string(i), per_connection, kMessageBytes);
  });
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(failures.empty()) << failures.front();
  if (!failures.empty()) return -1;
  return per_connection * connections / elapsed.count();
}

void Report(const char* what, int connections, double rate) {
  std::printf("mllp throughput, %s, %d connection(s), %zu-byte messages: %.0f messages/s\n", what,
              connections, kMessageBytes, rate);
  ::testing::Test::RecordProperty(std::string(what) + "_" + std::to_string(connections) + "_conn",
                                  std::to_string(static_cast<long>(rate)));
}

TEST(MllpListenerThroughputTest, EchoSinkOverTcpWithOneAndEightConnections) {
  EchoSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  for (int connections : {1, 8}) {
    Report("tcp", connections, Measure(*listener, connections, MllpClientOptions{}));
  }
  EXPECT_EQ(sink.count(), 2u * kTotalMessages);
}

TEST(MllpListenerThroughputTest, EchoSinkOverTlsWithOneAndEightConnections) {
  ::eds::testing::TempDir dir;
  EchoSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.tls_cert_path = dir.Sub("mllp.crt");
  options.tls_key_path = dir.Sub("mllp.key");
  ASSERT_TRUE(
      webadmin::EnsureDevCertificate(options.tls_cert_path, options.tls_key_path, "edsbox.test")
          .ok());
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  MllpClientOptions client;
  client.tls = true;
  for (int connections : {1, 8})
    Report("tls", connections, Measure(*listener, connections, client));
  EXPECT_EQ(sink.count(), 2u * kTotalMessages);
}

}  // namespace
}  // namespace eds::ingest::testing
