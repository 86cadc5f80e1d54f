// MllpTestClient: a small blocking MLLP client for the listener tests, over plain TCP or TLS
// (OpenSSL), optionally bound to a chosen local address (any of 127.0.0.0/8 works on Linux).
// Every connect, handshake, read and write is bounded by `timeout`, so no test can hang.
// Errors: kUnavailable (connect or handshake failed, or the server closed), kDeadlineExceeded,
// kDataLoss (bytes that are not an MLLP frame). Thread-compatible: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "ingest/mllp/framing.h"

namespace eds::ingest::testing {

struct MllpClientOptions {
  std::string server_address = "127.0.0.1";
  std::string local_address;  // empty = let the kernel choose
  bool tls = false;
  // PEM certificate trusted as the server's own (pinned); empty = no verification.
  std::string trusted_cert_path;
  int tls_min_version = 0;  // OpenSSL TLS1_2_VERSION, ...; 0 = library default
  int tls_max_version = 0;
  std::chrono::milliseconds timeout{5000};
};

class MllpTestClient {
 public:
  static Result<std::unique_ptr<MllpTestClient>> Connect(uint16_t port,
                                                         const MllpClientOptions& options = {});
  ~MllpTestClient();
  MllpTestClient(const MllpTestClient&) = delete;
  MllpTestClient& operator=(const MllpTestClient&) = delete;

  Status SendRaw(std::string_view bytes);
  Status Send(std::string_view message) { return SendRaw(MllpFrame(message)); }
  // The next framed message from the server.
  Result<std::string> ReadMessage();
  // Sends `message` and reads the reply.
  Result<std::string> Exchange(std::string_view message);
  // Whether the server closes the connection within `within`; data it sends is discarded.
  bool WaitForClose(std::chrono::milliseconds within);
  // "TLSv1.3" and so on; empty for plain TCP.
  std::string tls_version() const;

 private:
  struct Tls;
  MllpTestClient(int fd, MllpClientOptions options);
  Result<size_t> ReadSome(char* out, size_t size);

  int fd_;
  MllpClientOptions options_;
  std::unique_ptr<Tls> tls_;
  MllpDecoder decoder_{size_t{64} << 20};
};

}  // namespace eds::ingest::testing
