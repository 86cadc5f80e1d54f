#include "tests/testing/fault_proxy.h"

#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <optional>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/status_macros.h"

namespace eds::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kMaxRequestBytes = 1 << 20;

size_t ModeIndex(FaultMode mode) { return static_cast<size_t>(mode); }

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// Content-Length of a request head (up to and including the blank line); 0 when absent.
size_t ContentLength(std::string head) {
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string name = "\r\ncontent-length:";
  const size_t at = head.find(name);
  if (at == std::string::npos) return 0;
  size_t value = 0;
  for (size_t i = at + name.size(); i < head.size() && head[i] != '\r'; ++i) {
    if (std::isdigit(static_cast<unsigned char>(head[i])) != 0) {
      value = value * 10 + static_cast<size_t>(head[i] - '0');
      if (value > kMaxRequestBytes) return kMaxRequestBytes;
    }
  }
  return value;
}

// One accepted connection. Lives as long as one of its handlers is pending; all of them run on
// the proxy's single I/O thread, so the members need no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, FaultConfig config, std::shared_ptr<ssl::context> tls,
          tcp::endpoint target, std::chrono::milliseconds timeout, std::atomic<int>& handshakes,
          std::atomic<uint64_t>& response_bytes)
      : client_(std::move(client)),
        upstream_(client_.get_executor()),
        deadline_(client_.get_executor()),
        delay_(client_.get_executor()),
        config_(std::move(config)),
        tls_context_(std::move(tls)),
        target_(target),
        timeout_(timeout),
        response_left_(config_.cut_after_bytes),
        handshakes_(handshakes),
        response_bytes_(response_bytes) {}

  void Start() {
    auto self = shared_from_this();
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self](error_code ec) {
      if (!ec) self->Close();
    });
    switch (config_.mode) {
      case FaultMode::kPass:
      case FaultMode::kCutResponse:
        ConnectUpstream();
        break;
      case FaultMode::kDrop:
        Close();
        break;
      case FaultMode::kDelay:
        delay_.expires_after(config_.delay);
        delay_.async_wait([self](error_code ec) {
          if (ec) return self->Close();
          self->ConnectUpstream();
        });
        break;
      case FaultMode::kHttpStatus:
      case FaultMode::kWrongCert:
        StartTls();
        break;
      case FaultMode::kConnectTunnel:
        ReadConnect();
        break;
    }
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    deadline_.cancel(ignored);
    delay_.cancel(ignored);
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  void ConnectUpstream() {
    auto self = shared_from_this();
    upstream_.async_connect(target_, [self](error_code ec) {
      if (ec || self->closed_) return self->Close();
      self->Pipe(self->client_, self->upstream_, self->request_buffer_, false);
      self->Pipe(self->upstream_, self->client_, self->response_buffer_, true);
    });
  }

  // Copies `from` to `to` until end of stream; a half-close is passed on as a half-close, so a
  // client that shuts down its sending side still gets the whole response.
  void Pipe(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer, bool response) {
    auto self = shared_from_this();
    from.async_read_some(asio::buffer(buffer), [this, self, &from, &to, &buffer, response](
                                                   error_code ec, size_t n) {
      if (ec == asio::error::eof && !closed_) {
        error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        if (++directions_done_ == 2) Close();
        return;
      }
      if (ec || closed_) return Close();
      bool cut = false;
      if (response && config_.mode == FaultMode::kCutResponse) {
        cut = n >= response_left_;
        n = std::min(n, response_left_);
        response_left_ -= n;
      }
      if (response) response_bytes_.fetch_add(n);
      asio::async_write(to, asio::buffer(buffer.data(), n),
                        [this, self, &from, &to, &buffer, response, cut](error_code wec, size_t) {
                          if (wec || cut || closed_) return Close();
                          Pipe(from, to, buffer, response);
                        });
    });
  }

  // The request head of an HTTP proxy client: only a tunnel to the configured upstream opens.
  void ReadConnect() {
    auto self = shared_from_this();
    asio::async_read_until(
        client_, asio::dynamic_buffer(request_, kMaxRequestBytes), "\r\n\r\n",
        [self](error_code ec, size_t head_size) {
          if (ec || self->closed_) return self->Close();
          const std::string expected =
              "CONNECT 127.0.0.1:" + std::to_string(self->target_.port()) + " HTTP/1.1\r\n";
          const bool ok = self->request_.compare(0, expected.size(), expected) == 0 &&
                          self->request_.size() == head_size;
          self->reply_ = ok ? "HTTP/1.1 200 Connection established\r\n\r\n"
                            : "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
          asio::async_write(self->client_, asio::buffer(self->reply_),
                            [self, ok](error_code wec, size_t) {
                              if (wec || !ok || self->closed_) return self->Close();
                              self->ConnectUpstream();
                            });
        });
  }

  void StartTls() {
    auto self = shared_from_this();
    tls_.emplace(client_, *tls_context_);
    tls_->async_handshake(ssl::stream_base::server, [self](error_code ec) {
      if (ec || self->closed_) return self->Close();
      self->handshakes_.fetch_add(1);
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    auto self = shared_from_this();
    asio::async_read_until(
        *tls_, asio::dynamic_buffer(request_, kMaxRequestBytes), "\r\n\r\n",
        [self](error_code ec, size_t head_size) {
          if (ec || self->closed_) return self->Close();
          // Reading the whole body first means the close that follows the answer is a clean
          // one: unread data would turn it into a reset that can hide the answer.
          const size_t body = ContentLength(self->request_.substr(0, head_size));
          const size_t have = self->request_.size() - head_size;
          if (have >= body) return self->Respond();
          asio::async_read(*self->tls_, asio::dynamic_buffer(self->request_, kMaxRequestBytes),
                           asio::transfer_exactly(body - have), [self](error_code rec, size_t) {
                             if (rec || self->closed_) return self->Close();
                             self->Respond();
                           });
        });
  }

  void Respond() {
    auto self = shared_from_this();
    const std::string body = "fault proxy answered " + std::to_string(config_.http_status) + "\n";
    reply_ = "HTTP/1.1 " + std::to_string(config_.http_status) + " " +
             ReasonPhrase(config_.http_status) +
             "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::async_write(*tls_, asio::buffer(reply_), [self](error_code ec, size_t) {
      if (ec || self->closed_) return self->Close();
      // close_notify; the peer's reply (or its plain close) ends it, the deadline bounds it.
      self->tls_->async_shutdown([self](error_code) { self->Close(); });
    });
  }

  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer deadline_;
  asio::steady_timer delay_;
  const FaultConfig config_;
  std::shared_ptr<ssl::context> tls_context_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  const tcp::endpoint target_;
  const std::chrono::milliseconds timeout_;
  std::array<char, 16384> request_buffer_{};
  std::array<char, 16384> response_buffer_{};
  size_t response_left_;
  int directions_done_ = 0;
  bool closed_ = false;
  std::string request_;
  std::string reply_;
  std::atomic<int>& handshakes_;
  std::atomic<uint64_t>& response_bytes_;
};

}  // namespace

class FaultProxy::Impl {
 public:
  Impl(uint16_t target_port, FaultProxyOptions options)
      : target_(asio::ip::address_v4::loopback(), target_port), options_(options), acceptor_(io_) {}

  ~Impl() { Stop(); }

  Status Listen() {
    error_code ec;
    const tcp::endpoint local(asio::ip::address_v4::loopback(), 0);
    acceptor_.open(local.protocol(), ec);
    if (!ec) acceptor_.bind(local, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return UnavailableError("fault proxy cannot listen: " + ec.message());
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return OkStatus();
  }

  // Called by the owner only (Stop and the destructor are not called concurrently).
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // The I/O thread is gone, so the sessions can be closed from here.
    error_code ignored;
    acceptor_.close(ignored);
    for (std::weak_ptr<Session>& weak : sessions_) {
      if (std::shared_ptr<Session> session = weak.lock()) session->Close();
    }
    sessions_.clear();
  }

  Status SetMode(const FaultConfig& config) {
    std::shared_ptr<ssl::context> tls;
    if (config.mode == FaultMode::kHttpStatus || config.mode == FaultMode::kWrongCert) {
      if (config.http_status < 100 || config.http_status > 599) {
        return InvalidArgumentError("HTTP status " + std::to_string(config.http_status) +
                                    " is outside 100-599");
      }
      tls = std::make_shared<ssl::context>(ssl::context::tls_server);
      error_code ec;
      tls->use_certificate_chain_file(config.tls.cert_path, ec);
      if (!ec) tls->use_private_key_file(config.tls.key_path, ssl::context::pem, ec);
      if (ec) {
        return InvalidArgumentError("cannot load TLS certificate " + config.tls.cert_path +
                                    " and key " + config.tls.key_path + ": " + ec.message());
      }
    }
    MutexLock lock(mu_);
    config_ = config;
    tls_ = std::move(tls);
    return OkStatus();
  }

  uint16_t port() const { return port_; }
  int ConnectionsSeen(FaultMode mode) const { return seen_[ModeIndex(mode)].load(); }
  int TlsHandshakesCompleted() const { return handshakes_.load(); }
  uint64_t ResponseBytes() const { return response_bytes_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      // Accept errors (the listener closed, descriptors exhausted) end the loop; a test that
      // needs more connections then fails on its own client's error.
      if (ec) return;
      StartSession(std::move(socket));
      Accept();
    });
  }

  void StartSession(tcp::socket socket) {
    FaultConfig config;
    std::shared_ptr<ssl::context> tls;
    {
      MutexLock lock(mu_);
      config = config_;
      tls = tls_;
    }
    seen_[ModeIndex(config.mode)].fetch_add(1);
    auto session =
        std::make_shared<Session>(std::move(socket), std::move(config), std::move(tls), target_,
                                  options_.connection_timeout, handshakes_, response_bytes_);
    std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    sessions_.push_back(session);
    session->Start();
  }

  // Declared first so that it is destroyed last: pending handlers own sessions, whose sockets
  // and timers belong to it.
  asio::io_context io_;
  const tcp::endpoint target_;
  const FaultProxyOptions options_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool stopped_ = false;
  std::vector<std::weak_ptr<Session>> sessions_;  // I/O thread only, or after it has ended.

  mutable Mutex mu_;
  FaultConfig config_ EDS_GUARDED_BY(mu_);
  std::shared_ptr<ssl::context> tls_ EDS_GUARDED_BY(mu_);

  std::array<std::atomic<int>, kFaultModeCount> seen_{};
  std::atomic<int> handshakes_{0};
  std::atomic<uint64_t> response_bytes_{0};
};

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t target_port,
                                                      FaultProxyOptions options) {
  auto impl = std::make_unique<Impl>(target_port, options);
  EDS_RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl)));
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaultProxy::~FaultProxy() = default;

uint16_t FaultProxy::port() const { return impl_->port(); }
Status FaultProxy::SetMode(const FaultConfig& config) { return impl_->SetMode(config); }
int FaultProxy::ConnectionsSeen(FaultMode mode) const { return impl_->ConnectionsSeen(mode); }
int FaultProxy::TlsHandshakesCompleted() const { return impl_->TlsHandshakesCompleted(); }
uint64_t FaultProxy::ResponseBytes() const { return impl_->ResponseBytes(); }
void FaultProxy::Stop() { impl_->Stop(); }

}  // namespace eds::testing
