// TlsHttpClient: a small blocking HTTPS/1.1 client over OpenSSL for tests, one request per
// connection ("Connection: close"). Every connect, handshake, read and write is bounded by
// `timeout`. Errors: kUnavailable (connect or handshake failed), kDeadlineExceeded, kDataLoss
// (malformed reply). Thread-compatible: use one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "common/result.h"

namespace eds::testing {

struct TlsClientOptions {
  // OpenSSL protocol versions (TLS1_2_VERSION, ...); 0 = library default.
  int min_version = 0;
  int max_version = 0;
  // PEM file trusted as the server's certificate itself (a pinned leaf); empty = no verification.
  std::string trusted_cert_path;
  // Host name or IP the server certificate must match when verifying.
  std::string expected_host = "127.0.0.1";
  // TLS 1.2 cipher list to offer; empty = library default.
  std::string tls12_ciphers;
  // Lowers OpenSSL's security level to 0 so that old protocol versions can be offered at all.
  bool allow_legacy = false;
  std::chrono::milliseconds timeout{5000};
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
  std::string tls_version;  // E.g. "TLSv1.3".
  std::string cipher;       // OpenSSL cipher name.
};

class TlsHttpClient {
 public:
  explicit TlsHttpClient(TlsClientOptions options) : options_(std::move(options)) {}

  // Sends one request to 127.0.0.1:`port`. `extra_headers` are raw lines ending in "\r\n".
  Result<HttpReply> Request(uint16_t port, const std::string& method, const std::string& path,
                            const std::string& body = "", const std::string& extra_headers = "");
  // Only connects and completes the TLS handshake.
  Result<HttpReply> Handshake(uint16_t port);

 private:
  TlsClientOptions options_;
};

}  // namespace eds::testing
