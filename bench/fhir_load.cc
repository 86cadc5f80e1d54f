// fhir_load: FHIR transaction Bundles over HTTPS into edsd for the ingest benchmark
// (bench/run_ingest_benchmark.sh). Run by hand, never by ctest.
//   fhir_load --port P --token T --bundles FILE --count N [--connections 4] [--host 127.0.0.1]
//             [--timeout-ms 120000]
// POSTs the first N Bundles of FILE (one Bundle a line) to https://HOST:P/fhir with the bearer
// token, from every connection on its own contiguous slice (a patient's Patient goes before the
// resources that reference it), one request in flight per connection. Connections ask for
// keep-alive; when the server answers "Connection: close" the next request opens a new
// connection, resuming the TLS session when the server allows it. One thread drives every
// connection (Boost.Asio/Beast), each step under the timeout. A Bundle whose connection fails
// or times out is an error and the next one goes on a new connection; a connection that fails
// 5 times in a row gives up its slice (unsent).
// Prints one JSON line: bundles answered 200, bundles_failed (other status), entries_ok (2xx
// entry statuses: the resources stored), entries_failed, errors, unsent, tls_handshakes,
// tls_resumed, seconds, bundles_per_s, resources_per_s, latency_ms_p50/p99/max (per answered
// Bundle, connect and handshake included); the first problems go to stderr with their time.
// Exit status 1 unless every Bundle and entry succeeded.
#include <openssl/ssl.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // before Boost.Asio 1.74, which uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <nlohmann/json.hpp>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct Stats {
  uint64_t bundles_ok = 0;
  uint64_t bundles_failed = 0;
  uint64_t entries_ok = 0;
  uint64_t entries_failed = 0;
  uint64_t errors = 0;
  uint64_t unsent = 0;
  uint64_t handshakes = 0;
  uint64_t resumed = 0;
  std::vector<double> latencies_ms;  // per answered Bundle, connect and handshake included
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

struct Target {
  tcp::endpoint endpoint;
  std::string host_header;
  std::string authorization;
  std::chrono::milliseconds timeout;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(net::io_context& io, ssl::context& tls, const Target& target, LineReader reader,
          uint64_t count, Stats& stats)
      : io_(io),
        tls_(tls),
        target_(target),
        reader_(std::move(reader)),
        left_(count),
        stats_(stats) {
    request_.method(http::verb::post);
    request_.target("/fhir");
    request_.version(11);
    request_.set(http::field::host, target_.host_header);
    request_.set(http::field::authorization, target_.authorization);
    request_.set(http::field::content_type, "application/fhir+json");
    request_.set(http::field::accept, "application/fhir+json");
    request_.keep_alive(true);
  }
  ~Session() {
    if (tls_session_ != nullptr) SSL_SESSION_free(tls_session_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() { Next(); }

 private:
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  static constexpr int kMaxConsecutiveErrors = 5;

  void Next() {
    if (left_ == 0) return Close();
    std::string body;
    if (!reader_.Next(body)) {
      stats_.unsent += left_;
      stats_.Problem("the Bundle file ended early");
      return Close();
    }
    --left_;
    sent_at_ = Clock::now();
    request_.body() = std::move(body);
    request_.prepare_payload();
    if (stream_) return Write();
    stream_.emplace(io_, tls_);
    if (tls_session_ != nullptr) SSL_set_session(stream_->native_handle(), tls_session_);
    beast::get_lowest_layer(*stream_).expires_after(target_.timeout);
    beast::get_lowest_layer(*stream_).async_connect(
        target_.endpoint,
        [self = shared_from_this()](beast::error_code ec) { self->OnConnect(ec); });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Fail("connect", ec);
    beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true), ec);
    stream_->async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this()](beast::error_code e) { self->OnHandshake(e); });
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Fail("TLS handshake", ec);
    ++stats_.handshakes;
    if (SSL_session_reused(stream_->native_handle()) == 1) ++stats_.resumed;
    Write();
  }

  void Write() {
    beast::get_lowest_layer(*stream_).expires_after(target_.timeout);
    http::async_write(
        *stream_, request_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Fail("write", ec);
    parser_.emplace();
    parser_->body_limit(64u << 20);
    http::async_read(*stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code e, size_t) { self->OnRead(e); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Fail("read", ec);
    stats_.latencies_ms.push_back(Seconds(sent_at_, Clock::now()) * 1000);
    consecutive_errors_ = 0;
    const http::response<http::string_body>& response = parser_->get();
    if (response.result_int() == 200) {
      ++stats_.bundles_ok;
      CountEntries(response.body());
    } else {
      ++stats_.bundles_failed;
      stats_.Problem("HTTP " + std::to_string(response.result_int()) + ": " +
                     response.body().substr(0, 500));
    }
    if (!response.keep_alive()) {
      // The TLS 1.3 session ticket arrives after the handshake: keep it now, for the next
      // connection. The server closes after its answer, so no close_notify is sent back.
      if (SSL_SESSION* s = SSL_get1_session(stream_->native_handle()); s != nullptr) {
        if (tls_session_ != nullptr) SSL_SESSION_free(tls_session_);
        tls_session_ = s;
      }
      Close();
    }
    Next();
  }

  // Every entry of a transaction-response: "status":"2xx ..." or a failure.
  void CountEntries(const std::string& body) {
    static constexpr std::string_view kStatus = "\"status\":\"";
    for (size_t pos = body.find(kStatus); pos != std::string::npos;
         pos = body.find(kStatus, pos + 1)) {
      const size_t at = pos + kStatus.size();
      if (at < body.size() && body[at] == '2') {
        ++stats_.entries_ok;
      } else {
        ++stats_.entries_failed;
        stats_.Problem("entry failed: " + body.substr(pos, 300));
      }
    }
  }

  // The Bundle in flight is lost; the next one goes on a new connection, unless this connection
  // keeps failing.
  void Fail(const char* what, beast::error_code ec) {
    ++stats_.errors;
    stats_.Problem(std::string(what) + ": " + ec.message());
    Close();
    if (++consecutive_errors_ >= kMaxConsecutiveErrors) {
      stats_.unsent += left_;
      left_ = 0;
      return;
    }
    Next();
  }

  void Close() {
    if (!stream_) return;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*stream_).close();
    stream_.reset();
    buffer_.clear();
  }

  net::io_context& io_;
  ssl::context& tls_;
  const Target& target_;
  LineReader reader_;
  uint64_t left_;
  Stats& stats_;
  Clock::time_point sent_at_;
  int consecutive_errors_ = 0;
  std::optional<Stream> stream_;
  SSL_SESSION* tls_session_ = nullptr;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

Status Run(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string host, flags.String("host", "127.0.0.1"));
  EDS_ASSIGN_OR_RETURN(uint64_t port, flags.Number("port"));
  EDS_ASSIGN_OR_RETURN(std::string token, flags.String("token"));
  EDS_ASSIGN_OR_RETURN(std::string file, flags.String("bundles"));
  EDS_ASSIGN_OR_RETURN(uint64_t count, flags.Number("count"));
  EDS_ASSIGN_OR_RETURN(uint64_t connections, flags.Number("connections", 4));
  EDS_ASSIGN_OR_RETURN(uint64_t timeout_ms, flags.Number("timeout-ms", 120000));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  if (port > 65535) return InvalidArgumentError("--port out of range");
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("--host must be an IP address");
  EDS_ASSIGN_OR_RETURN(std::vector<uint64_t> offsets, IndexLines(file, count));
  if (offsets.size() - 1 < count) {
    return OutOfRangeError(file + " holds only " + std::to_string(offsets.size() - 1) + " Bundles");
  }

  // A benchmark on the loopback against the daemon's self-signed development certificate: the
  // server certificate is not verified. TLS 1.2 or later, as the server requires.
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);

  const Target target{tcp::endpoint(address, static_cast<uint16_t>(port)),
                      host + ":" + std::to_string(port), "Bearer " + token,
                      std::chrono::milliseconds(timeout_ms)};
  net::io_context io;
  Stats stats;
  for (const auto& [first, end] : SplitLines(count, connections)) {
    EDS_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(file, offsets[first]));
    if (end > first) {
      std::make_shared<Session>(io, tls, target, std::move(reader), end - first, stats)->Start();
    }
  }
  const Clock::time_point t0 = Clock::now();
  stats.start = t0;
  io.run();
  const double seconds = Seconds(t0, Clock::now());

  nlohmann::json j;
  j["connections"] = connections;
  j["bundles"] = stats.bundles_ok;
  j["bundles_failed"] = stats.bundles_failed;
  j["entries_ok"] = stats.entries_ok;
  j["entries_failed"] = stats.entries_failed;
  j["errors"] = stats.errors;
  j["unsent"] = stats.unsent;
  j["tls_handshakes"] = stats.handshakes;
  j["tls_resumed"] = stats.resumed;
  j["seconds"] = seconds;
  j["bundles_per_s"] = static_cast<double>(stats.bundles_ok) / seconds;
  j["resources_per_s"] = static_cast<double>(stats.entries_ok) / seconds;
  const Percentiles latency = Summarize(std::move(stats.latencies_ms));
  j["latency_ms_p50"] = latency.p50;
  j["latency_ms_p99"] = latency.p99;
  j["latency_ms_max"] = latency.max;
  std::printf("%s\n", j.dump().c_str());
  for (const std::string& p : stats.problems) std::fprintf(stderr, "fhir_load: %s\n", p.c_str());
  if (stats.bundles_ok != count || stats.entries_failed != 0) {
    return DataLossError(std::to_string(count - stats.bundles_ok) + " of " + std::to_string(count) +
                         " Bundles not answered 200, " + std::to_string(stats.entries_failed) +
                         " entries failed");
  }
  return OkStatus();
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) {
  eds::Result<eds::bench::Flags> flags = eds::bench::Flags::Parse(argc, argv, 1);
  eds::Status status = flags.ok() ? eds::bench::Run(*flags) : flags.status();
  if (!status.ok()) {
    std::fprintf(stderr, "fhir_load: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
