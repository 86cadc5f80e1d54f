#include "tests/ingest/mllp/test_sinks.h"

#include <algorithm>
#include <utility>

namespace eds::ingest::testing {

std::string TestMessage(const std::string& control_id, size_t size) {
  std::string m = "MSH|^~\\&|ADT|HOSP|EDS|NODE|20261128153538||ADT^A01|" + control_id +
                  "|P|2.5\rEVN|A01|20261128153538\r"
                  "PID|1||000123^^^HOSP^PI||TESTPATIENT^ALPHA||19700101|F\r"
                  "PV1|1|I|WARD^101^1\r";
  // Padding in an NTE segment brings the message to the requested size.
  if (m.size() + 8 < size) m += "NTE|1||" + std::string(size - m.size() - 8, 'x') + "\r";
  return m;
}

std::string ControlId(std::string_view message) {
  const std::string_view first = message.substr(0, message.find('\r'));
  size_t start = 0;
  for (int field = 0; field < 9; ++field) {
    start = first.find('|', start);
    if (start == std::string_view::npos) return "";
    ++start;
  }
  return std::string(first.substr(start, first.find('|', start) - start));
}

std::string AckFor(std::string_view message) {
  return "MSH|^~\\&|EDS|NODE|ADT|HOSP|20261128153538||ACK|A" + ControlId(message) +
         "|P|2.5\rMSA|AA|" + ControlId(message) + "|" + std::to_string(message.size()) + "\r";
}

void EchoSink::HandleMessage(std::string message, const PeerInfo&, Reply reply) {
  ++count_;
  reply(AckFor(message));
}

void RecordingSink::HandleMessage(std::string message, const PeerInfo& peer, Reply reply) {
  std::string ack = AckFor(message);
  {
    std::lock_guard<std::mutex> lock(mu_);
    received_.push_back({std::move(message), peer});
  }
  reply(std::move(ack));
}

std::vector<RecordingSink::Received> RecordingSink::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

size_t RecordingSink::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_.size();
}

DelayingSink::DelayingSink(std::chrono::milliseconds delay)
    : delay_(delay), worker_([this] { Run(); }) {}

DelayingSink::~DelayingSink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void DelayingSink::Answer(uint16_t port, const std::string& ack, const Reply& reply) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_[port];
  }
  reply(ack);
}

void DelayingSink::HandleMessage(std::string message, const PeerInfo& peer, Reply reply) {
  bool delay = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_[peer.port]);
    delay = ++seen_ % 3 == 0;
    if (delay) {
      pending_.push_back({std::chrono::steady_clock::now() + delay_, AckFor(message), peer.port,
                          std::move(reply)});
    }
  }
  if (delay) {
    ++delayed_;
    cv_.notify_all();
    return;
  }
  Answer(peer.port, AckFor(message), reply);
}

void DelayingSink::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    if (pending_.empty()) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      continue;
    }
    auto next = std::min_element(pending_.begin(), pending_.end(),
                                 [](const Pending& a, const Pending& b) { return a.due < b.due; });
    // A copy: the vector may grow while the lock is released.
    const std::chrono::steady_clock::time_point due = next->due;
    if (due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Pending p = std::move(*next);
    pending_.erase(next);
    lock.unlock();
    Answer(p.port, p.ack, p.reply);
    lock.lock();
  }
}

int DelayingSink::max_in_flight_per_connection() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

void HoldingSink::HandleMessage(std::string message, const PeerInfo&, Reply reply) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.emplace_back(std::move(message), std::move(reply));
  }
  cv_.notify_all();
}

bool HoldingSink::WaitForHeld(size_t n, std::chrono::milliseconds within) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, within, [&] { return held_.size() >= n; });
}

void HoldingSink::ReleaseAll() {
  std::vector<std::pair<std::string, Reply>> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.swap(held_);
  }
  for (auto& [message, reply] : held) reply(AckFor(message));
}

size_t HoldingSink::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

}  // namespace eds::ingest::testing
