#include "tests/testing/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace eds::testing {
namespace {

struct SslCtxDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslDeleter {
  void operator()(SSL* p) const { SSL_free(p); }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? std::string(std::strerror(errno)) : out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Result<int> ConnectLoopback(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      std::string why = std::strerror(errno);
      close(fd);
      return UnavailableError("connect: " + why);
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      close(fd);
      return DeadlineExceededError("connect timed out");
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return UnavailableError(std::string("connect: ") + std::strerror(err));
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

Result<HttpReply> ParseReply(const std::string& raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return DataLossError("no complete header block");
  HttpReply reply;
  if (std::sscanf(raw.c_str(), "HTTP/1.%*d %d", &reply.status) != 1) {
    return DataLossError("bad status line");
  }
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      const size_t v = line.find_first_not_of(' ', colon + 1);
      reply.headers[Lower(line.substr(0, colon))] = v == std::string::npos ? "" : line.substr(v);
    }
    pos = eol + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// Complete once the header block and Content-Length bytes of body have arrived.
bool IsComplete(const std::string& raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  const std::string head = Lower(raw.substr(0, head_end));
  const size_t cl = head.find("\r\ncontent-length:");
  if (cl == std::string::npos) return false;
  const size_t length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
  return raw.size() >= head_end + 4 + length;
}

}  // namespace

Result<HttpReply> TlsHttpClient::Handshake(uint16_t port) { return Request(port, "", ""); }

Result<HttpReply> TlsHttpClient::Request(uint16_t port, const std::string& method,
                                         const std::string& path, const std::string& body,
                                         const std::string& extra_headers) {
  // A server that answers early and closes must not kill the test with SIGPIPE on write.
  static std::once_flag sigpipe_once;
  std::call_once(sigpipe_once, [] { signal(SIGPIPE, SIG_IGN); });

  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (options_.allow_legacy) {
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  if (!options_.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), options_.tls12_ciphers.c_str()) != 1) {
    return InternalError("bad cipher list: " + OpenSslErrors());
  }
  if (options_.min_version != 0) SSL_CTX_set_min_proto_version(ctx.get(), options_.min_version);
  if (options_.max_version != 0) SSL_CTX_set_max_proto_version(ctx.get(), options_.max_version);
  if (!options_.trusted_cert_path.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), options_.trusted_cert_path.c_str(), nullptr) !=
        1) {
      return InternalError("cannot load " + options_.trusted_cert_path + ": " + OpenSslErrors());
    }
    // The pinned certificate is a leaf (CA:FALSE), so it must be accepted as a trust anchor.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx.get()), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }

  Result<int> fd_or = ConnectLoopback(port, options_.timeout);
  if (!fd_or.ok()) return fd_or.status();
  Fd fd(*fd_or);
  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx.get()));
  if (ssl == nullptr) return InternalError("SSL_new: " + OpenSslErrors());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
  if (X509_VERIFY_PARAM_set1_ip_asc(param, options_.expected_host.c_str()) != 1) {
    ERR_clear_error();
    SSL_set1_host(ssl.get(), options_.expected_host.c_str());
    SSL_set_tlsext_host_name(ssl.get(), options_.expected_host.c_str());
  }
  SSL_set_fd(ssl.get(), fd.get());
  if (SSL_connect(ssl.get()) != 1) {
    const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
    std::string why = OpenSslErrors();
    if (timed_out) return DeadlineExceededError("TLS handshake timed out");
    return UnavailableError("TLS handshake failed: " + why);
  }
  HttpReply handshake;
  handshake.tls_version = SSL_get_version(ssl.get());
  handshake.cipher = SSL_get_cipher_name(ssl.get());
  if (method.empty()) return handshake;

  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  const std::string lower_extra = Lower(extra_headers);
  if (lower_extra.find("content-length:") == std::string::npos &&
      lower_extra.find("transfer-encoding:") == std::string::npos) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += extra_headers + "\r\n" + body;
  // A failed write is not final: the server may have answered (413) before reading the body.
  SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));

  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  std::string raw;
  char buf[16384];
  while (!IsComplete(raw)) {
    if (std::chrono::steady_clock::now() > deadline) return DeadlineExceededError("read timed out");
    const int n = SSL_read(ssl.get(), buf, sizeof(buf));
    if (n <= 0) {
      if (SSL_get_error(ssl.get(), n) == SSL_ERROR_ZERO_RETURN ||
          raw.find("\r\n\r\n") != std::string::npos)
        break;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return DeadlineExceededError("read timed out");
      if (raw.empty()) return UnavailableError("connection closed: " + OpenSslErrors());
      break;
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  Result<HttpReply> reply = ParseReply(raw);
  if (!reply.ok()) return reply.status();
  reply->tls_version = handshake.tls_version;
  reply->cipher = handshake.cipher;
  return reply;
}

}  // namespace eds::testing
