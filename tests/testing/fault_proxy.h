// FaultProxy: a TCP proxy on 127.0.0.1 that stands between a client under test and its upstream
// and misbehaves on purpose: it passes bytes through, drops connections, delays them, cuts the
// upstream's response short, answers an HTTP status itself over TLS, or presents a certificate
// the client must refuse. The mode is read once per accepted connection, so a test switches it
// between connections with SetMode() (thread-safe). Runs its own Asio thread; every connection is
// closed after `connection_timeout` at the latest. Stop() (also run by the destructor) closes the
// listener and every open connection.
//
//   auto proxy = FaultProxy::Start(upstream_port);
//   EDS_ASSERT_OK(proxy);
//   EDS_ASSERT_OK((*proxy)->SetMode(FaultConfig::HttpStatus(503, cert)));
//   ... point the client at (*proxy)->port() ...
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/result.h"
#include "common/status.h"
#include "tests/testing/test_certs.h"

namespace eds::testing {

enum class FaultMode {
  kPass,         // Transparent TCP to the upstream.
  kDrop,         // Accept, then close at once; the upstream is never contacted.
  kDelay,        // Hold the connection `delay`, then behave as kPass.
  kCutResponse,  // Forward the request, then only the first `cut_after_bytes` of the response.
  kHttpStatus,   // Terminate TLS with `tls`, read one HTTP request, answer `http_status`; no
                 // upstream.
  kWrongCert,    // Terminate TLS with `tls` (a certificate the client should refuse); if the client
                 // goes on anyway, answer 200. No upstream.
  kConnectTunnel,  // An HTTP proxy: a CONNECT naming the upstream (127.0.0.1:port) is answered
                   // 200 and then piped as kPass; any other request is answered 403.
};
inline constexpr int kFaultModeCount = 7;

struct FaultConfig {
  FaultMode mode = FaultMode::kPass;
  std::chrono::milliseconds delay{0};
  size_t cut_after_bytes = 0;
  int http_status = 500;
  CertFiles tls;

  static FaultConfig Pass() { return {}; }
  static FaultConfig ConnectTunnel() { return With(FaultMode::kConnectTunnel); }
  static FaultConfig Drop() { return With(FaultMode::kDrop); }
  static FaultConfig Delay(std::chrono::milliseconds delay) {
    FaultConfig c = With(FaultMode::kDelay);
    c.delay = delay;
    return c;
  }
  static FaultConfig CutResponse(size_t bytes) {
    FaultConfig c = With(FaultMode::kCutResponse);
    c.cut_after_bytes = bytes;
    return c;
  }
  static FaultConfig HttpStatus(int status, CertFiles tls) {
    FaultConfig c = With(FaultMode::kHttpStatus);
    c.http_status = status;
    c.tls = std::move(tls);
    return c;
  }
  static FaultConfig WrongCert(CertFiles tls) {
    FaultConfig c = With(FaultMode::kWrongCert);
    c.http_status = 200;
    c.tls = std::move(tls);
    return c;
  }

 private:
  static FaultConfig With(FaultMode mode) {
    FaultConfig c;
    c.mode = mode;
    return c;
  }
};

struct FaultProxyOptions {
  // Upper bound on the life of any one proxied connection.
  std::chrono::milliseconds connection_timeout{10000};
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`target_port`, starting in kPass mode.
  // Errors: kUnavailable (cannot listen).
  static Result<std::unique_ptr<FaultProxy>> Start(uint16_t target_port,
                                                   FaultProxyOptions options = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const;
  // Applies to connections accepted from now on. Errors: kInvalidArgument (TLS modes without a
  // readable certificate and key, or a status outside 100-599).
  Status SetMode(const FaultConfig& config);
  // Connections accepted while `mode` was in force.
  int ConnectionsSeen(FaultMode mode) const;
  // Bytes piped from the upstream to clients so far, in every mode that pipes.
  uint64_t ResponseBytes() const;
  // TLS handshakes completed in kHttpStatus and kWrongCert modes (a client that refuses the
  // certificate never completes one).
  int TlsHandshakesCompleted() const;
  // Idempotent.
  void Stop();

 private:
  class Impl;
  explicit FaultProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eds::testing
