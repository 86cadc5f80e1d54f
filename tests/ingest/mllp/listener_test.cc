// MllpListener over real TCP on 127.0.0.1: ACKs, per-connection order, concurrency across
// connections, Stop, and start-up errors.
#include "ingest/mllp/listener.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "tests/ingest/mllp/listener_test_util.h"
#include "tests/ingest/mllp/mllp_test_client.h"
#include "tests/ingest/mllp/test_sinks.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::testing {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using std::chrono::milliseconds;

TEST(MllpListenerTest, OneMessageGetsOneAck) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  const std::string message = TestMessage("ONE");
  Result<std::string> ack = client->Exchange(message);
  ASSERT_THAT(ack, IsOk());
  EXPECT_EQ(*ack, AckFor(message));
  const auto received = sink.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].message, message);
  EXPECT_EQ(received[0].peer.address, "127.0.0.1");
  EXPECT_NE(received[0].peer.port, 0);
  EXPECT_FALSE(received[0].peer.tls);
  // The ACK is counted once its write completes, which the client may see first.
  EXPECT_TRUE(WaitFor([&] { return listener->stats().acks_sent == 1; }));
  const MllpListenerStats stats = listener->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.connections_active, 1u);
  EXPECT_EQ(stats.messages_received, 1u);
}

// The feeds page lists the connections open now: who, since when, how many messages.
TEST(MllpListenerTest, PeersListsTheOpenConnectionsWithTheirMessages) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  EXPECT_TRUE(listener->peers().empty());
  const int64_t before = UnixMillis(std::chrono::system_clock::now());
  auto first = ConnectOrNull(listener->port());
  ASSERT_NE(first, nullptr);
  ASSERT_THAT(first->Exchange(TestMessage("P1")), IsOk());
  ASSERT_THAT(first->Exchange(TestMessage("P2")), IsOk());
  auto second = ConnectOrNull(listener->port());
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(WaitFor([&] { return listener->peers().size() == 2; }));
  EXPECT_TRUE(WaitFor([&] { return listener->peers()[0].acks == 2; }));
  const std::vector<MllpPeer> peers = listener->peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].address, "127.0.0.1");
  EXPECT_NE(peers[0].port, peers[1].port);
  EXPECT_FALSE(peers[0].tls);
  EXPECT_GE(peers[0].connected_at_ms, before);
  EXPECT_EQ(peers[0].connection, 1u);  // oldest first
  EXPECT_EQ(peers[1].connection, 2u);
  EXPECT_LE(peers[0].connected_at_ms, peers[1].connected_at_ms);
  EXPECT_EQ(peers[0].messages, 2u);
  EXPECT_GE(peers[0].last_message_at_ms, peers[0].connected_at_ms);
  EXPECT_EQ(peers[1].messages, 0u);
  EXPECT_EQ(peers[1].last_message_at_ms, 0);
  first.reset();  // closes the socket
  EXPECT_TRUE(WaitFor([&] { return listener->peers().size() == 1; }));
  EXPECT_EQ(listener->peers().at(0).messages, 0u);
}

TEST(MllpListenerTest, EightConnectionsOfTwoHundredMessagesGetTheirAcksInOrder) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  const uint16_t port = listener->port();
  const auto failures = RunClients(8, [port](int i) -> std::string {
    auto client = MllpTestClient::Connect(port);
    if (!client.ok()) return client.status().ToString();
    return ExchangeMany(**client, "C" + std::to_string(i), 200);
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(sink.count(), 1600u);
  EXPECT_TRUE(WaitFor([&] { return listener->stats().acks_sent == 1600; }));
}

TEST(MllpListenerTest, PipelinedFramesAreAnsweredInOrder) {
  RecordingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  std::string burst;
  for (int k = 0; k < 20; ++k) burst += MllpFrame(TestMessage("P-" + std::to_string(k))) + "\r\n";
  ASSERT_THAT(client->SendRaw(burst), IsOk());
  for (int k = 0; k < 20; ++k) {
    Result<std::string> ack = client->ReadMessage();
    ASSERT_THAT(ack, IsOk());
    EXPECT_EQ(*ack, AckFor(TestMessage("P-" + std::to_string(k))));
  }
}

TEST(MllpListenerTest, OrderHoldsPerConnectionWhenTheSinkRepliesOutOfOrderFromAnotherThread) {
  DelayingSink sink(milliseconds(15));
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  const uint16_t port = listener->port();
  const auto failures = RunClients(4, [port](int i) -> std::string {
    auto client = MllpTestClient::Connect(port);
    if (!client.ok()) return client.status().ToString();
    // The whole batch is sent before any ACK is read, so only the listener keeps the order.
    for (int round = 0; round < 3; ++round) {
      std::string burst;
      std::vector<std::string> messages;
      for (int k = 0; k < 10; ++k) {
        messages.push_back(TestMessage("D" + std::to_string(i) + "-" + std::to_string(round) + "-" +
                                       std::to_string(k)));
        burst += MllpFrame(messages.back());
      }
      if (Status s = (*client)->SendRaw(burst); !s.ok()) return s.ToString();
      for (const std::string& m : messages) {
        Result<std::string> ack = (*client)->ReadMessage();
        if (!ack.ok()) return ack.status().ToString();
        if (*ack != AckFor(m)) return "ACK out of order on connection " + std::to_string(i);
      }
    }
    return "";
  });
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(sink.max_in_flight_per_connection(), 1);
  EXPECT_GT(sink.delayed(), 0u);
}

TEST(MllpListenerTest, DifferentConnectionsAreInFlightAtTheSameTime) {
  HoldingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto a = ConnectOrNull(listener->port());
  auto b = ConnectOrNull(listener->port());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_THAT(a->Send(TestMessage("A")), IsOk());
  ASSERT_THAT(b->Send(TestMessage("B")), IsOk());
  // Both reach the sink although neither is answered: connections do not wait for each other.
  ASSERT_TRUE(sink.WaitForHeld(2, kCloseWait));
  sink.ReleaseAll();
  Result<std::string> ack_a = a->ReadMessage();
  Result<std::string> ack_b = b->ReadMessage();
  ASSERT_THAT(ack_a, IsOk());
  ASSERT_THAT(ack_b, IsOk());
  EXPECT_EQ(*ack_a, AckFor(TestMessage("A")));
  EXPECT_EQ(*ack_b, AckFor(TestMessage("B")));
}

TEST(MllpListenerTest, NextMessageWaitsUntilThePreviousAckIsWritten) {
  HoldingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->SendRaw(MllpFrame(TestMessage("N-0")) + MllpFrame(TestMessage("N-1"))),
              IsOk());
  ASSERT_TRUE(sink.WaitForHeld(1, kCloseWait));
  EXPECT_FALSE(sink.WaitForHeld(2, milliseconds(200)));
  sink.ReleaseAll();
  ASSERT_TRUE(sink.WaitForHeld(1, kCloseWait));
  sink.ReleaseAll();
  EXPECT_EQ(client->ReadMessage().value(), AckFor(TestMessage("N-0")));
  EXPECT_EQ(client->ReadMessage().value(), AckFor(TestMessage("N-1")));
}

TEST(MllpListenerTest, SecondReplyToTheSameMessageIsIgnored) {
  class TwiceSink : public Hl7Sink {
   public:
    void HandleMessage(std::string message, const PeerInfo&, Reply reply) override {
      reply(AckFor(message));
      reply("MSA|AA|DUPLICATE");
    }
  } sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(ExchangeMany(*client, "T", 5), "");
}

TEST(MllpListenerTest, StopWhileAReplyIsPendingStillDeliversTheAck) {
  HoldingSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  auto busy = ConnectOrNull(listener->port());
  auto idle = ConnectOrNull(listener->port());
  ASSERT_NE(busy, nullptr);
  ASSERT_NE(idle, nullptr);
  ASSERT_THAT(busy->Send(TestMessage("PENDING")), IsOk());
  ASSERT_TRUE(sink.WaitForHeld(1, kCloseWait));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    listener->Stop();
    stopped = true;
  });
  // The idle connection goes at once; the busy one waits for its ACK.
  EXPECT_TRUE(idle->WaitForClose(kCloseWait));
  EXPECT_FALSE(stopped.load());
  sink.ReleaseAll();
  Result<std::string> ack = busy->ReadMessage();
  EXPECT_EQ(ack.ok() ? *ack : ack.status().ToString(), AckFor(TestMessage("PENDING")));
  EXPECT_TRUE(busy->WaitForClose(kCloseWait));
  stopper.join();
  EXPECT_TRUE(stopped.load());
}

TEST(MllpListenerTest, StopIsBoundedWhenTheSinkNeverReplies) {
  HoldingSink sink;
  MllpListenerOptions options = LoopbackOptions();
  options.stop_timeout = milliseconds(200);
  auto listener = StartListener(options, sink);
  ASSERT_NE(listener, nullptr);
  auto client = ConnectOrNull(listener->port());
  ASSERT_NE(client, nullptr);
  ASSERT_THAT(client->Send(TestMessage("LOST")), IsOk());
  ASSERT_TRUE(sink.WaitForHeld(1, kCloseWait));
  const auto start = std::chrono::steady_clock::now();
  listener->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(client->WaitForClose(kCloseWait));
  listener.reset();
  // A reply after the listener is gone is dropped without touching freed memory.
  sink.ReleaseAll();
}

TEST(MllpListenerTest, StopIsIdempotentAndRefusesNewConnections) {
  EchoSink sink;
  auto listener = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(listener, nullptr);
  const uint16_t port = listener->port();
  listener->Stop();
  listener->Stop();
  Result<std::unique_ptr<MllpTestClient>> late = MllpTestClient::Connect(port);
  EXPECT_FALSE(late.ok() && (*late)->Exchange(TestMessage("LATE")).ok());
  listener.reset();
}

TEST(MllpListenerTest, StartRejectsBadOptions) {
  EchoSink sink;
  MllpListenerOptions o = LoopbackOptions();
  o.allowed_peers = {"10.0.0.0/40"};
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kInvalidArgument));
  o = LoopbackOptions();
  o.bind_address = "localhost";
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kInvalidArgument));
  o = LoopbackOptions();
  o.tls_cert_path = "/nonexistent/cert.pem";
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kInvalidArgument));
  o.tls_key_path = "/nonexistent/key.pem";
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kFailedPrecondition));
  o = LoopbackOptions();
  o.max_message_bytes = 0;
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kInvalidArgument));
  o = LoopbackOptions();
  o.read_timeout = milliseconds(0);
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MllpListenerTest, StartFailsWhenThePortIsTaken) {
  EchoSink sink;
  auto first = StartListener(LoopbackOptions(), sink);
  ASSERT_NE(first, nullptr);
  MllpListenerOptions o = LoopbackOptions();
  o.port = first->port();
  EXPECT_THAT(MllpListener::Start(o, sink), StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace eds::ingest::testing
