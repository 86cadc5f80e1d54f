#include "sync/upstream_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <mutex>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "common/tls_policy.h"

namespace eds::sync {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string HostPort(const std::string& host, const std::string& port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

// Runs the operations started on `ioc` to completion; `result` is what their handler set.
error_code Drive(asio::io_context& ioc, const error_code& result) {
  ioc.restart();
  ioc.run();
  // run() also returns when Cancel() stops the context mid-operation.
  return result == asio::error::would_block ? asio::error::operation_aborted : result;
}

// Runs one asynchronous operation to completion on `ioc`.
template <typename Start>
error_code RunOp(asio::io_context& ioc, Start&& start) {
  error_code result = asio::error::would_block;
  std::forward<Start>(start)([&result](error_code ec, auto&&...) { result = ec; });
  return Drive(ioc, result);
}

// The same for a read or write, with the bytes it moved.
template <typename Start>
error_code RunTransfer(asio::io_context& ioc, Start&& start, size_t* transferred) {
  error_code result = asio::error::would_block;
  std::forward<Start>(start)([&result, transferred](error_code ec, size_t n) {
    result = ec;
    *transferred = n;
  });
  return Drive(ioc, result);
}

std::string OpenSslReason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Trusts every certificate of a PEM text (the upstream's CA set on the setup page).
Status AddPemCertificates(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return InternalError("cannot read the CA certificates");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  OpenSslReason();  // the end of the text reads as an error
  if (added == 0) return InvalidArgumentError("upstream CA: no PEM certificate in the text");
  return OkStatus();
}

}  // namespace

Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return InvalidArgumentError("not an absolute URL");
  out.scheme = std::string(url.substr(0, scheme_end));
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme != "https" && out.scheme != "http") {
    return InvalidArgumentError("scheme must be https or http");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return InvalidArgumentError("URL has a fragment");
  const size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  out.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("URL must not carry user information");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unclosed IPv6 bracket");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgumentError("junk after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgumentError("URL has no host");
  if (port.empty()) {
    out.port = out.scheme == "https" ? "443" : "80";
  } else {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return InvalidArgumentError("bad port");
    }
    out.port = std::string(port);
  }
  return out;
}

struct UpstreamClient::Impl {
  UpstreamOptions options;
  ParsedUrl url;
  std::optional<ParsedUrl> proxy;
  ssl::context ctx{ssl::context::tls_client};
  std::string pin;  // raw 32 bytes

  std::mutex active_mu;
  asio::io_context* active = nullptr;  // the request in flight, for Cancel()
  bool cancelled = false;

  // One request to this client's origin; `target` is the request target (path and query).
  Result<HttpResponse> Send(bool post, const std::string& target,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::string_view content_type, std::string_view body,
                            size_t max_response);
};

UpstreamClient::UpstreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UpstreamClient::~UpstreamClient() = default;

void UpstreamClient::Cancel() {
  std::lock_guard lock(impl_->active_mu);
  impl_->cancelled = true;
  if (impl_->active != nullptr) impl_->active->stop();
}

Result<std::unique_ptr<UpstreamClient>> UpstreamClient::Create(const UpstreamOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto url = ParseUrl(options.url);
  if (!url.ok()) return InvalidArgumentError("sync.upstream_url: " + url.status().message());
  if (url->scheme != "https") return InvalidArgumentError("sync.upstream_url: must be https");
  impl->url = *url;
  if (!options.proxy_url.empty()) {
    auto proxy = ParseUrl(options.proxy_url);
    if (!proxy.ok()) return InvalidArgumentError("sync.proxy_url: " + proxy.status().message());
    if (proxy->scheme != "http") return InvalidArgumentError("sync.proxy_url: must be http://");
    impl->proxy = *proxy;
  }
  if (!options.spki_pin.empty()) {
    auto pin = Base64Decode(options.spki_pin);
    if (!pin || pin->size() != crypto_hash_sha256_BYTES) {
      return InvalidArgumentError("sync.spki_pin: must be the base64 of a SHA-256 digest");
    }
    impl->pin = *pin;
  }
  SSL_CTX* native = impl->ctx.native_handle();
  if (!tls::ApplyPolicy(native)) {
    return InternalError("cannot configure TLS for the upstream: " + OpenSslReason());
  }
  if (!options.ca_pem.empty()) {
    EDS_RETURN_IF_ERROR(AddPemCertificates(native, options.ca_pem));
  } else if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
      OpenSslReason();
      return InvalidArgumentError("sync.ca_file: cannot load CA certificates from the file");
    }
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    OpenSslReason();
    return InvalidArgumentError("sync.ca_file: no CA bundle given and the system's cannot load");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (options.client_cert.empty() != options.client_key.empty()) {
    return InvalidArgumentError("sync.client_cert and sync.client_key go together");
  }
  if (!options.client_cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, options.client_cert.c_str()) != 1) {
      OpenSslReason();
      return InvalidArgumentError("sync.client_cert: cannot load the certificate chain");
    }
    if (SSL_CTX_use_PrivateKey_file(native, options.client_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(native) != 1) {
      OpenSslReason();  // never echo key material
      return InvalidArgumentError("sync.client_key: cannot load a key matching client_cert");
    }
  }
  if (options.max_response_bytes == 0) {
    return InvalidArgumentError("sync.max_response_bytes: must be positive");
  }
  return std::unique_ptr<UpstreamClient>(new UpstreamClient(std::move(impl)));
}

Result<HttpResponse> UpstreamClient::Post(
    std::string_view path_suffix, const std::vector<std::pair<std::string, std::string>>& headers,
    std::string_view content_type, std::string_view body) {
  std::string target = impl_->url.path;
  if (!path_suffix.empty()) {
    if (!target.empty() && target.back() == '/' && path_suffix.front() == '/') target.pop_back();
    target += path_suffix;
  }
  return impl_->Send(true, target, headers, content_type, body, impl_->options.max_response_bytes);
}

Result<HttpResponse> UpstreamClient::Get(std::string_view url, size_t max_bytes) {
  EDS_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseUrl(url));
  if (parsed.scheme != "https" || parsed.host != impl_->url.host ||
      parsed.port != impl_->url.port) {
    return InvalidArgumentError("only URLs of " + impl_->options.url + "'s origin are fetched");
  }
  return impl_->Send(false, parsed.path, {}, "", "", max_bytes);
}

Result<HttpResponse> UpstreamClient::Impl::Send(
    bool post, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view content_type,
    std::string_view body, size_t max_response) {
  const auto deadline = Clock::now() + options.total_timeout;
  // Each step may use its own limit, never past the total deadline.
  auto budget = [&](std::chrono::milliseconds step) -> Result<std::chrono::milliseconds> {
    {
      std::lock_guard lock(active_mu);
      if (cancelled) return CancelledError("the upstream client is stopping");
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      return DeadlineExceededError("total time limit of " +
                                   std::to_string(options.total_timeout.count()) + " ms reached");
    }
    return std::min(step, left);
  };
  const ParsedUrl& hop = proxy ? *proxy : url;
  const std::string peer = HostPort(hop.host, hop.port);
  asio::io_context ioc;
  {
    std::lock_guard lock(active_mu);
    if (cancelled) return CancelledError("the upstream client is stopping");
    active = &ioc;
  }
  struct Unregister {
    Impl* impl;
    ~Unregister() {
      std::lock_guard lock(impl->active_mu);
      impl->active = nullptr;
    }
  } unregister{this};
  beast::tcp_stream tcp(ioc);

  // Resolve and connect, both under the connect limit.
  EDS_ASSIGN_OR_RETURN(auto connect_budget, budget(options.connect_timeout));
  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  asio::steady_timer resolve_timer(ioc, connect_budget);
  resolve_timer.async_wait([&resolver](error_code ec) {
    if (!ec) resolver.cancel();
  });
  error_code ec = RunOp(ioc, [&](auto handler) {
    resolver.async_resolve(
        hop.host, hop.port,
        [&endpoints, &resolve_timer, handler](error_code e, tcp::resolver::results_type r) mutable {
          resolve_timer.cancel();
          endpoints = std::move(r);
          handler(e);
        });
  });
  if (ec) return UnavailableError("cannot resolve " + hop.host + ": " + ec.message());
  EDS_ASSIGN_OR_RETURN(connect_budget, budget(options.connect_timeout));
  tcp.expires_after(connect_budget);
  ec = RunOp(ioc, [&](auto handler) { tcp.async_connect(endpoints, handler); });
  if (ec == beast::error::timeout) {
    return DeadlineExceededError("connect to " + peer + " timed out");
  }
  if (ec) return UnavailableError("cannot connect to " + peer + ": " + ec.message());

  beast::flat_buffer buffer;
  if (proxy) {
    const std::string authority = HostPort(url.host, url.port);
    http::request<http::empty_body> connect{http::verb::connect, authority, 11};
    connect.set(http::field::host, authority);
    connect.set(http::field::user_agent, options.user_agent);
    EDS_ASSIGN_OR_RETURN(auto read_budget, budget(options.read_timeout));
    tcp.expires_after(read_budget);
    ec = RunOp(ioc, [&](auto handler) { http::async_write(tcp, connect, handler); });
    if (ec) return UnavailableError("proxy " + peer + ": " + ec.message());
    http::response_parser<http::empty_body> answer;
    answer.skip(true);  // a CONNECT answer has no body, whatever its headers say
    ec = RunOp(ioc, [&](auto handler) { http::async_read_header(tcp, buffer, answer, handler); });
    if (ec == beast::error::timeout) return DeadlineExceededError("proxy " + peer + " timed out");
    if (ec) return UnavailableError("proxy " + peer + ": " + ec.message());
    const unsigned code = answer.get().result_int();
    if (code != 200) {
      return UnavailableError("proxy " + peer + " refused the tunnel to " + authority +
                              " with HTTP " + std::to_string(code));
    }
  }

  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ctx);
  SSL* ssl_handle = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  if (IsIpLiteral(url.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
  }
  EDS_ASSIGN_OR_RETURN(auto read_budget, budget(options.read_timeout));
  beast::get_lowest_layer(stream).expires_after(read_budget);
  ec = RunOp(ioc, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec) {
    const long verify = SSL_get_verify_result(ssl_handle);
    OpenSslReason();
    if (verify != X509_V_OK) {
      return PermissionDeniedError("server certificate of " + url.host +
                                   " refused: " + X509_verify_cert_error_string(verify));
    }
    if (ec == beast::error::timeout) {
      return DeadlineExceededError("TLS handshake with " + url.host + " timed out");
    }
    return UnavailableError("TLS handshake with " + url.host + " failed: " + ec.message());
  }
  if (!pin.empty()) {
    X509* cert = SSL_get1_peer_certificate(ssl_handle);
    std::string digest;
    if (cert != nullptr) {
      EVP_PKEY* key = X509_get0_pubkey(cert);
      const int len = key == nullptr ? -1 : i2d_PUBKEY(key, nullptr);
      if (len > 0) {
        std::string der(static_cast<size_t>(len), '\0');
        auto* p = reinterpret_cast<unsigned char*>(der.data());
        i2d_PUBKEY(key, &p);
        digest.resize(crypto_hash_sha256_BYTES);
        crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                           reinterpret_cast<const unsigned char*>(der.data()), der.size());
      }
      X509_free(cert);
    }
    if (digest.size() != pin.size() || sodium_memcmp(digest.data(), pin.data(), pin.size()) != 0) {
      return PermissionDeniedError("server key of " + url.host + " does not match sync.spki_pin");
    }
  }

  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
  req.set(http::field::host, HostPort(url.host, url.port));
  req.set(http::field::user_agent, options.user_agent);
  if (post) req.set(http::field::content_type, std::string(content_type));
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (post) req.body() = std::string(body);
  req.prepare_payload();
  EDS_ASSIGN_OR_RETURN(read_budget, budget(options.read_timeout));
  beast::get_lowest_layer(stream).expires_after(read_budget);
  size_t request_bytes = 0;
  ec = RunTransfer(
      ioc, [&](auto handler) { http::async_write(stream, req, handler); }, &request_bytes);
  if (ec == beast::error::timeout)
    return DeadlineExceededError("sending to " + url.host + " timed out");
  if (ec) return UnavailableError("sending to " + url.host + " failed: " + ec.message());

  http::response_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(max_response);
  EDS_ASSIGN_OR_RETURN(read_budget, budget(options.read_timeout));
  beast::get_lowest_layer(stream).expires_after(read_budget);
  size_t response_bytes = 0;
  ec = RunTransfer(
      ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); },
      &response_bytes);
  // The body is checked again: a body that arrives with the header in one read can pass the
  // parser's limit.
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      (!ec && parser.get().body().size() > max_response)) {
    return ResourceExhaustedError("response from " + url.host + " is larger than " +
                                  std::to_string(max_response) + " bytes");
  }
  if (ec == beast::error::timeout) {
    return DeadlineExceededError("waiting for the answer of " + url.host + " timed out");
  }
  if (ec == http::error::partial_message || ec == asio::ssl::error::stream_truncated ||
      ec == http::error::end_of_stream) {
    return UnavailableError("connection to " + url.host + " was cut before the answer ended");
  }
  if (ec) return UnavailableError("reading the answer of " + url.host + ": " + ec.message());
  HttpResponse out;
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string(field.value());
  }
  out.body = res.body();
  out.request_bytes = request_bytes;
  out.response_bytes = response_bytes;
  // A polite close; the answer is complete whatever the peer does now.
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(500));
  RunOp(ioc, [&](auto handler) { stream.async_shutdown(handler); });
  return out;
}

}  // namespace eds::sync
