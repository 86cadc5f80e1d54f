// The MLLP listener's per-connection machinery. A connection runs on its own strand: it reads,
// decodes, hands one message at a time to the sink, writes the ACK, and enforces the idle and read
// deadlines. The listener owns a ConnectionContext that outlives every connection; connections
// are kept alive by the registry (and by their pending handlers) until they close.
// Thread-safe where stated; everything else runs on the connection's strand.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/mutex.h"
#include "ingest/mllp/hl7_sink.h"
#include "ingest/mllp/listener.h"

namespace eds::ingest::internal {

struct ListenerCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused_peer{0};
  std::atomic<uint64_t> connections_refused_limit{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> acks_sent{0};
  std::atomic<uint64_t> framing_errors{0};
  std::atomic<uint64_t> oversized_frames{0};
  std::atomic<uint64_t> idle_timeouts{0};
  std::atomic<uint64_t> read_timeouts{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
};

// Lets a sink reply, from any thread, reach a connection only while the listener's threads run:
// after Close() a reply is dropped instead of touching a stopped or destroyed io_context.
class ReplyGate {
 public:
  // Runs fn() under the gate's lock when the gate is open. fn must not block.
  template <typename Fn>
  void IfOpen(Fn&& fn) EDS_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (open_) fn();
  }
  void Close() EDS_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    open_ = false;
  }

 private:
  Mutex mu_;
  bool open_ EDS_GUARDED_BY(mu_) = true;
};

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Thread-safe. Closes the connection now if nothing is in flight, else right after the ACK of
  // the message in flight is written; no further message is handed to the sink.
  virtual void BeginStop() = 0;
  // Closes the connection at once. Only once the listener's threads are joined (nothing else
  // can touch the connection then).
  virtual void CloseAfterStop() = 0;
  // Thread-safe: who is connected and what it has sent so far.
  virtual MllpPeer Describe() const = 0;
};

// Live connections, for the connection limit and for Stop(). Thread-safe.
class ConnectionRegistry {
 public:
  void Add(std::shared_ptr<ConnectionBase> connection) EDS_EXCLUDES(mu_);
  void Remove(const ConnectionBase* connection) EDS_EXCLUDES(mu_);
  size_t size() const EDS_EXCLUDES(mu_);
  std::vector<std::shared_ptr<ConnectionBase>> Snapshot() const EDS_EXCLUDES(mu_);
  // Whether the registry became empty before `deadline`.
  bool WaitUntilEmpty(std::chrono::steady_clock::time_point deadline) EDS_EXCLUDES(mu_);
  // Drops every entry; only once the listener's threads are joined.
  void Clear() EDS_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::condition_variable emptied_;
  std::unordered_map<const ConnectionBase*, std::shared_ptr<ConnectionBase>> live_
      EDS_GUARDED_BY(mu_);
};

// What connections share with the listener; outlives every connection and handler.
struct ConnectionContext {
  ConnectionContext(Hl7Sink& s, const MllpListenerOptions& o) : sink(s), options(o) {}

  Hl7Sink& sink;
  const MllpListenerOptions options;
  ListenerCounters counters;
  std::atomic<uint64_t> connections_started{0};  // numbers the connections
  ConnectionRegistry registry;
  const std::shared_ptr<ReplyGate> gate = std::make_shared<ReplyGate>();
};

// Registers and starts a connection on `socket`, whose executor must be a strand. With `tls`
// non-null the connection first completes a TLS server handshake; `tls` must outlive it.
void StartConnection(ConnectionContext& context, boost::asio::ip::tcp::socket socket,
                     boost::asio::ssl::context* tls, PeerInfo peer);

}  // namespace eds::ingest::internal
