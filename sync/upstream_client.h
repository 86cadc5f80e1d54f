// UpstreamClient: HTTPS POST (and GET) to the upstream (Boost.Beast over OpenSSL). TLS 1.2 or
// later; the server certificate verified against a configured CA bundle and the URL's host name;
// optional SPKI pin and client certificate (mutual TLS); optional HTTP CONNECT proxy; connect, read
// and total time limits; a bound on the response size. One connection per request: a release is
// sent a few times a day, and a fresh handshake re-checks the certificate every time. Errors:
// kInvalidArgument (bad options, naming the option), kUnavailable (cannot connect, proxy refused,
// connection cut), kDeadlineExceeded (a time limit), kPermissionDenied (certificate or pin refused,
// with the reason), kResourceExhausted (response too big), kDataLoss (malformed reply). Messages
// never hold the request body. Thread-safe: each Post is independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace eds::sync {

struct UpstreamOptions {
  std::string url;          // https://host[:port][/path]
  std::string ca_file;      // PEM bundle the server certificate must chain to
  std::string ca_pem;       // or the bundle itself; both empty: the system's CA store
  std::string spki_pin;     // optional: base64 SHA-256 of the server's SubjectPublicKeyInfo
  std::string client_cert;  // optional PEM chain for mutual TLS
  std::string client_key;   // its PEM key (required with client_cert)
  std::string proxy_url;    // optional http://host:port, tunnelled with CONNECT
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds total_timeout{60000};
  size_t max_response_bytes = 1 << 20;
  std::string user_agent = "edsd";
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // HTTP bytes of the request sent and the answer read (headers included, TLS excluded).
  size_t request_bytes = 0;
  size_t response_bytes = 0;
};

struct ParsedUrl {
  std::string scheme;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string path;  // "/" when absent
};
// Accepts http and https URLs with a host, an optional port and path; no user info, no fragment.
Result<ParsedUrl> ParseUrl(std::string_view url);

class UpstreamClient {
 public:
  // Validates the options and loads the CA bundle and client certificate.
  static Result<std::unique_ptr<UpstreamClient>> Create(const UpstreamOptions& options);
  ~UpstreamClient();

  // POSTs `body` to the URL's path followed by `path_suffix`.
  Result<HttpResponse> Post(std::string_view path_suffix,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::string_view content_type, std::string_view body);

  // GETs an absolute https URL of the configured URL's origin (same host and port), reading at
  // most `max_bytes` of body (kResourceExhausted past it).
  Result<HttpResponse> Get(std::string_view url, size_t max_bytes);

  // Aborts a request in flight and makes later ones fail at once (shutdown). kCancelled.
  void Cancel();

 private:
  struct Impl;
  explicit UpstreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eds::sync
