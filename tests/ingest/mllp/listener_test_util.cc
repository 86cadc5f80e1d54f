#include "tests/ingest/mllp/listener_test_util.h"

#include <thread>

#include "tests/ingest/mllp/test_sinks.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::testing {

MllpListenerOptions LoopbackOptions() {
  MllpListenerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.idle_timeout = std::chrono::seconds(10);
  o.read_timeout = std::chrono::seconds(10);
  o.stop_timeout = std::chrono::seconds(3);
  return o;
}

std::unique_ptr<MllpTestClient> ConnectOrNull(uint16_t port, const MllpClientOptions& options) {
  Result<std::unique_ptr<MllpTestClient>> client = MllpTestClient::Connect(port, options);
  EXPECT_THAT(client, ::eds::testing::IsOk());
  return client.ok() ? std::move(client).value() : nullptr;
}

std::unique_ptr<MllpListener> StartListener(const MllpListenerOptions& options, Hl7Sink& sink) {
  Result<std::unique_ptr<MllpListener>> listener = MllpListener::Start(options, sink);
  EXPECT_THAT(listener, ::eds::testing::IsOk());
  if (!listener.ok()) return nullptr;
  EXPECT_NE((*listener)->port(), 0);
  return std::move(listener).value();
}

std::vector<std::string> RunClients(int n, const std::function<std::string(int)>& body) {
  std::vector<std::string> results(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = body(i); });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> failures;
  for (std::string& r : results) {
    if (!r.empty()) failures.push_back(std::move(r));
  }
  return failures;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string ExchangeMany(MllpTestClient& client, const std::string& prefix, int count,
                         size_t message_size) {
  for (int k = 0; k < count; ++k) {
    const std::string message = TestMessage(prefix + "-" + std::to_string(k), message_size);
    Result<std::string> ack = client.Exchange(message);
    if (!ack.ok()) return prefix + " message " + std::to_string(k) + ": " + ack.status().ToString();
    if (*ack != AckFor(message)) return prefix + " message " + std::to_string(k) + ": wrong ACK";
  }
  return "";
}

}  // namespace eds::ingest::testing
