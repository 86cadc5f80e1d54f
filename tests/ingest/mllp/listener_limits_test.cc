// MllpListener over real TCP on 127.0.0.1: what protects it from bad or slow peers. Framing
// errors, oversized frames, idle and read timeouts, the connection limit and the allow-list.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "ingest/mllp/listener.h"
#include "tests/ingest/mllp/listener_test_util.h"
#include "tests/ingest/mllp/mllp_test_client.h"
#include "tests/ingest/mllp/test_sinks.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::testing {
namespace {

using ::eds::testing::IsOk;
using std::chrono::milliseconds;

TEST(MllpListenerLimitsTest, OversizedFrameClosesOnlyThatConnection) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.max_message_bytes = 1000;
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto good = ConnectOrNull(listener->port());
  auto bad = ConnectOrNull(listener->port());
  ASSERT_NE(good, nullptr);
  ASSERT_NE(bad, nullptr);
  ASSERT_EQ(ExchangeMany(*good, "G", 1), "");
  ASSERT_THAT(bad->Send(TestMessage("BIG", 4000)), IsOk());
  EXPECT_TRUE(bad->WaitForClose(kCloseWait));
  EXPECT_EQ(ExchangeMany(*good, "G2", 3), "");
  EXPECT_EQ(ExchangeMany(*good, "EXACT", 1, 1000), "");
  EXPECT_EQ(sink.count(), 5u);
  EXPECT_EQ(listener->stats().oversized_frames, 1u);
  EXPECT_EQ(listener->stats().framing_errors, 1u);
}

TEST(MllpListenerLimitsTest, JunkBeforeAFrameClosesTheConnection) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->SendRaw("HELO\r\n" + MllpFrame(TestMessage("J"))), IsOk());
  EXPECT_TRUE(client->WaitForClose(kCloseWait));
  EXPECT_EQ(sink.count(), 0u);
  EXPECT_EQ(listener->stats().framing_errors, 1u);
}

TEST(MllpListenerLimitsTest, EndBlockWithoutCarriageReturnClosesTheConnection) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->SendRaw("\x0b" + TestMessage("J") + "\x1c\n"), IsOk());
  EXPECT_TRUE(client->WaitForClose(kCloseWait));
  EXPECT_EQ(sink.count(), 0u);
}

TEST(MllpListenerLimitsTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.idle_timeout = milliseconds(300);
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(ExchangeMany(*client, "I", 1), "");
  // Blank lines between frames are not traffic: they do not keep the connection open.
  ASSERT_THAT(client->SendRaw("\r\n"), IsOk());
  EXPECT_TRUE(client->WaitForClose(kCloseWait));
  EXPECT_EQ(listener->stats().idle_timeouts, 1u);
}

TEST(MllpListenerLimitsTest, StalledFrameIsClosedAfterTheReadTimeout) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.read_timeout = milliseconds(300);
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  const std::string frame = MllpFrame(TestMessage("SLOW"));
  ASSERT_THAT(client->SendRaw(frame.substr(0, frame.size() / 2)), IsOk());
  EXPECT_TRUE(client->WaitForClose(kCloseWait));
  EXPECT_EQ(sink.count(), 0u);
  EXPECT_EQ(listener->stats().read_timeouts, 1u);
}

TEST(MllpListenerLimitsTest, TricklingFrameIsClosedAfterTheReadTimeout) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.read_timeout = milliseconds(300);
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  // One byte every 50 ms: each read is recent, but the frame as a whole is too slow.
  const std::string frame = MllpFrame(TestMessage("TRICKLE"));
  bool closed = false;
  for (size_t i = 0; i < 60 && !closed; ++i) {
    if (!client->SendRaw(frame.substr(i, 1)).ok()) break;
    closed = client->WaitForClose(milliseconds(50));
  }
  EXPECT_TRUE(closed || client->WaitForClose(kCloseWait));
  EXPECT_EQ(sink.count(), 0u);
  EXPECT_EQ(listener->stats().read_timeouts, 1u);
}

TEST(MllpListenerLimitsTest, ConnectionBeyondTheLimitIsClosedAtOnce) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.max_connections = 2;
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto first = ConnectOrNull(listener->port());
  auto second = ConnectOrNull(listener->port());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(ExchangeMany(*first, "F", 1), "");
  ASSERT_EQ(ExchangeMany(*second, "S", 1), "");
  auto third = ConnectOrNull(listener->port());
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->WaitForClose(kCloseWait));
  EXPECT_EQ(listener->stats().connections_refused_limit, 1u);
  EXPECT_EQ(ExchangeMany(*first, "F2", 2), "");
  // A slot freed by a closed connection can be used again.
  second.reset();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto again = ConnectOrNull(listener->port());
    served = again != nullptr && ExchangeMany(*again, "R", 1).empty();
    if (!served) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST(MllpListenerLimitsTest, PeerNotOnTheAllowListIsRefused) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.allowed_peers = {"127.0.0.2"};
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto stranger = ConnectOrNull(listener->port());
  ASSERT_NE(stranger, nullptr);
  EXPECT_TRUE(stranger->WaitForClose(kCloseWait));
  MllpClientOptions from_allowed;
  from_allowed.local_address = "127.0.0.2";
  auto friendly = ConnectOrNull(listener->port(), from_allowed);
  ASSERT_NE(friendly, nullptr);
  EXPECT_EQ(ExchangeMany(*friendly, "OK", 2), "");
  EXPECT_EQ(listener->stats().connections_refused_peer, 1u);
  ASSERT_EQ(sink.count(), 2u);
  EXPECT_EQ(sink.received()[0].peer.address, "127.0.0.2");
}

TEST(MllpListenerLimitsTest, CidrAllowListAdmitsOnlyItsBlock) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.allowed_peers = {"127.0.0.0/30"};
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  MllpClientOptions inside;
  inside.local_address = "127.0.0.3";
  auto in_client = ConnectOrNull(listener->port(), inside);
  ASSERT_NE(in_client, nullptr);
  EXPECT_EQ(ExchangeMany(*in_client, "IN", 1), "");
  MllpClientOptions outside;
  outside.local_address = "127.0.0.5";
  auto out_client = ConnectOrNull(listener->port(), outside);
  ASSERT_NE(out_client, nullptr);
  EXPECT_TRUE(out_client->WaitForClose(kCloseWait));
  EXPECT_EQ(sink.count(), 1u);
}

TEST(MllpListenerLimitsTest, ServesIpv6Clients) {
  RecordingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.bind_address = "::1";
  Result<std::unique_ptr<MllpListener>> listener = MllpListener::Start(options, sink);
  // Debian's kernel always has ::1; a build without IPv6 must say so clearly.
  ASSERT_TRUE(listener.ok()) << "no IPv6 loopback here: " << listener.status().ToString();
  MllpClientOptions client_options;
  client_options.server_address = "::1";
  auto client = ConnectOrNull((*listener)->port(), client_options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(ExchangeMany(*client, "V6", 2), "");
  EXPECT_EQ(sink.received()[0].peer.address, "::1");
}

}  // namespace
}  // namespace eds::ingest::testing
