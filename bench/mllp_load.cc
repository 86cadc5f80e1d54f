// mllp_load: HL7 v2 over MLLP into edsd for the ingest benchmark (bench/run_ingest_benchmark.sh).
// Run by hand, never by ctest.
//   mllp_load --port P --messages FILE --count N [--connections 1] [--host 127.0.0.1]
//             [--timeout-ms 60000]
// Sends the first N messages of FILE (one message a line, segments ending with \r), framed
// 0x0B ... 0x1C 0x0D. The messages are split into one contiguous slice per connection (a
// patient's ADT^A04 goes before its ORU^R01s, on the same connection but at slice edges); every
// connection waits for the ACK of a message before it sends the next, and every ACK must say
// MSA-1 AA. One thread drives every connection (Boost.Asio), each step under the timeout. A
// connection that fails or times out is opened again (the message in flight is lost); one that
// fails 5 times in a row gives up its slice (unsent).
// Prints one JSON line: messages answered, acks_aa, acks_other (AE/AR/unreadable), errors,
// lost, unsent, resources (the FHIR resources the accepted messages map to: 2 for an ADT
// (Patient, Encounter), 2 + OBX count for an ORU (Patient, Observations, DiagnosticReport)),
// seconds, messages_per_s, resources_per_s, latency_ms_p50/p99/max (send to ACK); the first
// problems go to stderr with their time. Exit status 1 unless every message was answered AA.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // before Boost.Asio 1.74, which uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <nlohmann/json.hpp>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

struct Stats {
  uint64_t sent = 0;
  uint64_t acks_aa = 0;
  uint64_t acks_other = 0;
  uint64_t errors = 0;
  uint64_t unsent = 0;
  uint64_t lost = 0;  // sent, connection lost before the ACK
  uint64_t resources = 0;
  std::vector<double> latencies_ms;  // per acknowledged message
  Clock::time_point start = Clock::now();
  std::vector<std::string> problems;  // the first few, with when they happened

  void Problem(const std::string& what) {
    if (problems.size() < 5) {
      char when[32];
      std::snprintf(when, sizeof when, "at %.1f s: ", Seconds(start, Clock::now()));
      problems.push_back(when + what);
    }
  }
};

// MSA-1 of an ACK ("AA", "AE", ...); empty when there is no MSA segment.
std::string_view AckCode(std::string_view ack) {
  size_t pos = ack.find("\rMSA|");
  if (pos == std::string_view::npos) return {};
  pos += 5;
  const size_t end = ack.find_first_of("|\r", pos);
  return ack.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

// FHIR resources edsd maps a message to (ingest/v2_to_fhir.cc).
uint64_t ResourcesOf(std::string_view message) {
  uint64_t obx = 0;
  for (size_t pos = message.find("\rOBX|"); pos != std::string_view::npos;
       pos = message.find("\rOBX|", pos + 1)) {
    ++obx;
  }
  return 2 + obx;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(net::io_context& io, tcp::endpoint endpoint, LineReader reader, uint64_t count,
          std::chrono::milliseconds timeout, Stats& stats)
      : stream_(io),
        endpoint_(endpoint),
        reader_(std::move(reader)),
        left_(count),
        timeout_(timeout),
        stats_(stats) {}

  void Start() { Connect(); }

 private:
  static constexpr int kMaxConsecutiveErrors = 5;

  void Connect() {
    if (left_ == 0) return;
    stream_.expires_after(timeout_);
    stream_.async_connect(
        endpoint_, [self = shared_from_this()](beast::error_code ec) { self->OnConnect(ec); });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Fail("connect", ec);
    stream_.socket().set_option(tcp::no_delay(true), ec);
    SendNext();
  }

  void SendNext() {
    if (left_ == 0) return Close();
    if (!reader_.Next(message_)) {
      stats_.unsent += left_;
      stats_.Problem("the message file ended early");
      return Close();
    }
    --left_;
    sent_at_ = Clock::now();
    frame_.assign(1, '\x0b').append(message_).append("\x1c\r");
    stream_.expires_after(timeout_);
    net::async_write(
        stream_, net::buffer(frame_),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Fail("write", ec);
    net::async_read_until(
        stream_, net::dynamic_buffer(in_), "\x1c\r",
        [self = shared_from_this()](beast::error_code e, size_t n) { self->OnRead(e, n); });
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) return Fail("read", ec);
    stats_.latencies_ms.push_back(Seconds(sent_at_, Clock::now()) * 1000);
    consecutive_errors_ = 0;
    const std::string_view ack(in_.data(), n);
    ++stats_.sent;
    if (AckCode(ack) == "AA") {
      ++stats_.acks_aa;
      stats_.resources += ResourcesOf(message_);
    } else {
      ++stats_.acks_other;
      std::string shown(ack);
      std::replace(shown.begin(), shown.end(), '\r', '\n');
      stats_.Problem("ACK not AA: " + shown);
    }
    in_.erase(0, n);
    SendNext();
  }

  // The message in flight is lost (a failed connect loses none); the next one goes on a new
  // connection, unless this connection keeps failing.
  void Fail(const char* what, beast::error_code ec) {
    ++stats_.errors;
    if (std::string_view(what) != "connect") ++stats_.lost;
    stats_.Problem(std::string(what) + ": " + ec.message());
    Close();
    in_.clear();
    if (++consecutive_errors_ >= kMaxConsecutiveErrors) {
      stats_.unsent += left_;
      left_ = 0;
      return;
    }
    Connect();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const tcp::endpoint endpoint_;
  LineReader reader_;
  uint64_t left_;
  const std::chrono::milliseconds timeout_;
  Stats& stats_;
  Clock::time_point sent_at_;
  int consecutive_errors_ = 0;
  std::string message_;
  std::string frame_;
  std::string in_;
};

Status Run(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string host, flags.String("host", "127.0.0.1"));
  EDS_ASSIGN_OR_RETURN(uint64_t port, flags.Number("port"));
  EDS_ASSIGN_OR_RETURN(std::string file, flags.String("messages"));
  EDS_ASSIGN_OR_RETURN(uint64_t count, flags.Number("count"));
  EDS_ASSIGN_OR_RETURN(uint64_t connections, flags.Number("connections", 1));
  EDS_ASSIGN_OR_RETURN(uint64_t timeout_ms, flags.Number("timeout-ms", 60000));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  if (port > 65535) return InvalidArgumentError("--port out of range");
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("--host must be an IP address");
  EDS_ASSIGN_OR_RETURN(std::vector<uint64_t> offsets, IndexLines(file, count));
  if (offsets.size() - 1 < count) {
    return OutOfRangeError(file + " holds only " + std::to_string(offsets.size() - 1) +
                           " messages");
  }

  net::io_context io;
  Stats stats;
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  for (const auto& [first, end] : SplitLines(count, connections)) {
    EDS_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(file, offsets[first]));
    std::make_shared<Session>(io, endpoint, std::move(reader), end - first,
                              std::chrono::milliseconds(timeout_ms), stats)
        ->Start();
  }
  const Clock::time_point t0 = Clock::now();
  stats.start = t0;
  io.run();
  const double seconds = Seconds(t0, Clock::now());

  nlohmann::json j;
  j["connections"] = connections;
  j["messages"] = stats.sent;
  j["acks_aa"] = stats.acks_aa;
  j["acks_other"] = stats.acks_other;
  j["errors"] = stats.errors;
  j["unsent"] = stats.unsent;
  j["lost"] = stats.lost;
  j["resources"] = stats.resources;
  j["seconds"] = seconds;
  j["messages_per_s"] = static_cast<double>(stats.acks_aa) / seconds;
  j["resources_per_s"] = static_cast<double>(stats.resources) / seconds;
  const Percentiles latency = Summarize(std::move(stats.latencies_ms));
  j["latency_ms_p50"] = latency.p50;
  j["latency_ms_p99"] = latency.p99;
  j["latency_ms_max"] = latency.max;
  std::printf("%s\n", j.dump().c_str());
  for (const std::string& p : stats.problems) std::fprintf(stderr, "mllp_load: %s\n", p.c_str());
  if (stats.acks_aa != count) {
    return DataLossError(std::to_string(count - stats.acks_aa) + " of " + std::to_string(count) +
                         " messages not acknowledged AA");
  }
  return OkStatus();
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) {
  eds::Result<eds::bench::Flags> flags = eds::bench::Flags::Parse(argc, argv, 1);
  eds::Status status = flags.ok() ? eds::bench::Run(*flags) : flags.status();
  if (!status.ok()) {
    std::fprintf(stderr, "mllp_load: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
