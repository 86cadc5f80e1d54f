#include "tests/ingest/mllp/mllp_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace eds::ingest::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? std::string(std::strerror(errno)) : out;
}

// Fills a sockaddr for `address` (IPv4 or IPv6 text) and `port`.
bool MakeAddress(const std::string& address, uint16_t port, sockaddr_storage& out, socklen_t& len) {
  out = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

struct MllpTestClient::Tls {
  ~Tls() {
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
  }
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
};

MllpTestClient::MllpTestClient(int fd, MllpClientOptions options)
    : fd_(fd), options_(std::move(options)) {}

MllpTestClient::~MllpTestClient() {
  tls_.reset();
  close(fd_);
}

Result<std::unique_ptr<MllpTestClient>> MllpTestClient::Connect(uint16_t port,
                                                                const MllpClientOptions& options) {
  // A write to a connection the server closed must fail, not kill the test binary.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  sockaddr_storage server{};
  socklen_t server_len = 0;
  if (!MakeAddress(options.server_address, port, server, server_len)) {
    return InvalidArgumentError("bad server address " + options.server_address);
  }
  const int fd = socket(server.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  std::unique_ptr<MllpTestClient> client(new MllpTestClient(fd, options));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(options.timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((options.timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (!options.local_address.empty()) {
    sockaddr_storage local{};
    socklen_t local_len = 0;
    if (!MakeAddress(options.local_address, 0, local, local_len) ||
        bind(fd, reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
      return UnavailableError("cannot bind the client to " + options.local_address);
    }
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&server), server_len) != 0) {
    return UnavailableError(std::string("connect: ") + std::strerror(errno));
  }
  if (!options.tls) return client;
  client->tls_ = std::make_unique<Tls>();
  Tls& tls = *client->tls_;
  tls.ctx = SSL_CTX_new(TLS_client_method());
  if (tls.ctx == nullptr) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  if (options.tls_min_version != 0) SSL_CTX_set_min_proto_version(tls.ctx, options.tls_min_version);
  if (options.tls_max_version != 0) SSL_CTX_set_max_proto_version(tls.ctx, options.tls_max_version);
  if (!options.trusted_cert_path.empty()) {
    if (SSL_CTX_load_verify_locations(tls.ctx, options.trusted_cert_path.c_str(), nullptr) != 1) {
      return InternalError("cannot load " + options.trusted_cert_path + ": " + OpenSslErrors());
    }
    // The pinned certificate is a self-signed leaf: trust it without a CA above it.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(tls.ctx), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(tls.ctx, SSL_VERIFY_PEER, nullptr);
  }
  tls.ssl = SSL_new(tls.ctx);
  if (tls.ssl == nullptr) return InternalError("SSL_new: " + OpenSslErrors());
  if (!options.trusted_cert_path.empty()) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls.ssl), options.server_address.c_str());
  }
  SSL_set_fd(tls.ssl, fd);
  if (SSL_connect(tls.ssl) != 1) return UnavailableError("TLS handshake: " + OpenSslErrors());
  return client;
}

std::string MllpTestClient::tls_version() const {
  return tls_ != nullptr ? SSL_get_version(tls_->ssl) : "";
}

Status MllpTestClient::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n;
    if (tls_ != nullptr) {
      n = SSL_write(tls_->ssl, bytes.data(), static_cast<int>(bytes.size()));
    } else {
      n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    if (n <= 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return DeadlineExceededError("send timed out");
      return UnavailableError(std::string("send failed: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<size_t> MllpTestClient::ReadSome(char* out, size_t size) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  if (tls_ == nullptr || SSL_pending(tls_->ssl) == 0) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, RemainingMs(deadline));
    if (ready == 0) return DeadlineExceededError("no data from the server in time");
    if (ready < 0) return InternalError(std::string("poll: ") + std::strerror(errno));
  }
  if (tls_ != nullptr) {
    const int n = SSL_read(tls_->ssl, out, static_cast<int>(size));
    if (n > 0) return static_cast<size_t>(n);
    if (SSL_get_error(tls_->ssl, n) == SSL_ERROR_ZERO_RETURN) {
      return UnavailableError("server closed the TLS connection");
    }
    return UnavailableError("TLS read failed: " + OpenSslErrors());
  }
  const ssize_t n = recv(fd_, out, size, 0);
  if (n > 0) return static_cast<size_t>(n);
  if (n == 0) return UnavailableError("server closed the connection");
  if (errno == EAGAIN || errno == EWOULDBLOCK) return DeadlineExceededError("read timed out");
  return UnavailableError(std::string("read failed: ") + std::strerror(errno));
}

Result<std::string> MllpTestClient::ReadMessage() {
  char buffer[16 * 1024];
  while (!decoder_.HasMessage()) {
    if (!decoder_.status().ok()) return DataLossError(decoder_.status().message());
    Result<size_t> n = ReadSome(buffer, sizeof(buffer));
    if (!n.ok()) return n.status();
    if (Status s = decoder_.Feed(std::string_view(buffer, *n)); !s.ok()) {
      return DataLossError("server sent a bad frame: " + s.message());
    }
  }
  return decoder_.TakeMessage();
}

Result<std::string> MllpTestClient::Exchange(std::string_view message) {
  if (Status s = Send(message); !s.ok()) return s;
  return ReadMessage();
}

bool MllpTestClient::WaitForClose(std::chrono::milliseconds within) {
  const Clock::time_point deadline = Clock::now() + within;
  char scratch[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) return false;
    const ssize_t n = recv(fd_, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
  }
}

}  // namespace eds::ingest::testing
