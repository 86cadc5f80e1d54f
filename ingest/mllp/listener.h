// MllpListener: HL7 v2 over MLLP on TCP, optionally TLS (docs/formats/mllp.md).
// Each message is handed to an Hl7Sink and its ACK written back framed. Per connection, messages
// are strictly sequential (HL7 original mode): the next one reaches the sink only after the
// previous ACK was written; different connections run concurrently on the listener's threads.
// Peers off the allow-list and connections over the limit are closed at once; framing errors,
// oversized frames and timeouts close the connection. Logs never carry message content.
// Thread-safe. Start errors: kInvalidArgument (bad option, naming it; a TLS key that does not
// match its certificate), kFailedPrecondition (cannot bind or listen, unreadable TLS files).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/mllp/hl7_sink.h"

namespace eds::ingest {

struct MllpListenerOptions {
  // Address to listen on; "::" listens on IPv6 and IPv4 (dual stack).
  std::string bind_address = "0.0.0.0";
  // TCP port; 0 picks an ephemeral port (read it back with port()).
  uint16_t port = 2575;
  // Largest message accepted between the framing bytes; a larger frame closes the connection.
  size_t max_message_bytes = size_t{1} << 20;
  // Connections served at once; further ones are closed as soon as they are accepted.
  int max_connections = 64;
  // A connection with no frame in progress and nothing in flight is closed after this.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // A frame that has started must be complete within this; also bounds the TLS handshake and
  // each ACK write (a peer that stops reading).
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  // Peers allowed to connect: IP addresses or CIDR blocks, IPv4 or IPv6. Empty = every peer.
  std::vector<std::string> allowed_peers;
  // PEM certificate chain and private key. Both set = TLS (1.2 or 1.3) only; both empty = TCP.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Threads running the connections.
  int threads = 2;
  // How long Stop() waits for messages in flight to get their ACK written before closing anyway.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(5)};
};

// Counters since Start, for metrics. Each field is read atomically; the set is not a snapshot.
struct MllpListenerStats {
  uint64_t connections_accepted = 0;       // passed the allow-list and the connection limit
  uint64_t connections_refused_peer = 0;   // peer not on the allow-list
  uint64_t connections_refused_limit = 0;  // over max_connections
  uint64_t connections_active = 0;
  uint64_t messages_received = 0;  // handed to the sink
  uint64_t acks_sent = 0;          // ACK completely written
  uint64_t framing_errors = 0;     // bytes outside a frame, bad end of frame, oversized frames
  uint64_t oversized_frames = 0;   // the oversized part of framing_errors
  uint64_t idle_timeouts = 0;
  uint64_t read_timeouts = 0;  // a frame, a handshake or an ACK write took too long
  uint64_t tls_handshake_failures = 0;
};

// A connection open now, for the feeds page.
struct MllpPeer {
  uint64_t connection = 0;  // accept order since Start, from 1
  std::string address;
  uint16_t port = 0;
  bool tls = false;
  int64_t connected_at_ms = 0;     // Unix milliseconds
  uint64_t messages = 0;           // handed to the sink on this connection
  uint64_t acks = 0;               // ACKs completely written
  int64_t last_message_at_ms = 0;  // Unix milliseconds; 0 before the first
};

class MllpListener {
 public:
  // Binds, listens and starts `options.threads` threads. `sink` must outlive the listener.
  static Result<std::unique_ptr<MllpListener>> Start(const MllpListenerOptions& options,
                                                     Hl7Sink& sink);
  // Stops (see Stop()).
  ~MllpListener();
  MllpListener(const MllpListener&) = delete;
  MllpListener& operator=(const MllpListener&) = delete;

  // Stops accepting, closes idle connections, lets every message in flight get its ACK written
  // (waiting at most options.stop_timeout), then closes the rest and joins the threads. A reply
  // the sink gives after that is dropped; the sender will resend. Idempotent. Must not be called
  // from the sink's HandleMessage or reply.
  void Stop();

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;
  MllpListenerStats stats() const;
  // The connections open now, oldest first.
  std::vector<MllpPeer> peers() const;

  struct Impl;

 private:
  explicit MllpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eds::ingest
