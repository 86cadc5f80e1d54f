// Hl7Sink implementations for the listener tests. Each answers with AckFor(message), which names
// the message's control id (MSH-10) and length, so a client can tell which ACK answers what.
//   EchoSink     replies at once, on the calling thread; counts messages.
//   RecordingSink replies at once and records each message with its peer; tracks how many
//                 messages of one connection were ever in flight together.
//   DelayingSink replies to every third message later, from its own thread, so replies reach the
//                 listener out of order across connections.
//   HoldingSink  keeps every reply until Release(); lets a test see messages in flight.
// All are thread-safe; waits are bounded.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ingest/mllp/hl7_sink.h"

namespace eds::ingest::testing {

// An ADT^A01 of about `size` bytes (synthetic, no real person) with control id `control_id`.
std::string TestMessage(const std::string& control_id, size_t size = 300);
// MSH-10 of `message`, or "" when it has none.
std::string ControlId(std::string_view message);
// The ACK text the test sinks answer with.
std::string AckFor(std::string_view message);

using Reply = std::function<void(std::string)>;

class EchoSink : public Hl7Sink {
 public:
  void HandleMessage(std::string message, const PeerInfo& peer, Reply reply) override;
  uint64_t count() const { return count_.load(); }

 private:
  std::atomic<uint64_t> count_{0};
};

class RecordingSink : public Hl7Sink {
 public:
  struct Received {
    std::string message;
    PeerInfo peer;
  };
  void HandleMessage(std::string message, const PeerInfo& peer, Reply reply) override;
  std::vector<Received> received() const;
  size_t count() const;

 private:
  mutable std::mutex mu_;
  std::vector<Received> received_;
};

class DelayingSink : public Hl7Sink {
 public:
  explicit DelayingSink(std::chrono::milliseconds delay);
  ~DelayingSink() override;
  void HandleMessage(std::string message, const PeerInfo& peer, Reply reply) override;
  // Largest number of messages of one connection (peer port) in flight at the same time.
  int max_in_flight_per_connection() const;
  uint64_t delayed() const { return delayed_.load(); }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point due;
    std::string ack;
    uint16_t port;
    Reply reply;
  };
  void Run();
  void Answer(uint16_t port, const std::string& ack, const Reply& reply);

  const std::chrono::milliseconds delay_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;
  std::map<uint16_t, int> in_flight_;
  int max_in_flight_ = 0;
  uint64_t seen_ = 0;
  bool done_ = false;
  std::atomic<uint64_t> delayed_{0};
  std::thread worker_;
};

class HoldingSink : public Hl7Sink {
 public:
  void HandleMessage(std::string message, const PeerInfo& peer, Reply reply) override;
  // Whether at least `n` replies are held within `within`.
  bool WaitForHeld(size_t n, std::chrono::milliseconds within);
  // Answers every held message, on the calling thread.
  void ReleaseAll();
  size_t held() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, Reply>> held_;
};

}  // namespace eds::ingest::testing
