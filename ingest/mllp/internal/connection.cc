#include "ingest/mllp/internal/connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <type_traits>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "ingest/mllp/framing.h"

namespace eds::ingest::internal {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

void ConnectionRegistry::Add(std::shared_ptr<ConnectionBase> connection) {
  MutexLock lock(mu_);
  const ConnectionBase* key = connection.get();
  live_.emplace(key, std::move(connection));
}

void ConnectionRegistry::Remove(const ConnectionBase* connection) {
  std::shared_ptr<ConnectionBase> removed;  // released after the lock, never under it
  {
    MutexLock lock(mu_);
    auto it = live_.find(connection);
    if (it == live_.end()) return;
    removed = std::move(it->second);
    live_.erase(it);
    if (live_.empty()) emptied_.notify_all();
  }
}

size_t ConnectionRegistry::size() const {
  MutexLock lock(mu_);
  return live_.size();
}

std::vector<std::shared_ptr<ConnectionBase>> ConnectionRegistry::Snapshot() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<ConnectionBase>> out;
  out.reserve(live_.size());
  for (const auto& entry : live_) out.push_back(entry.second);
  return out;
}

bool ConnectionRegistry::WaitUntilEmpty(SteadyTime deadline) {
  MutexLock lock(mu_);
  std::unique_lock<std::mutex> native(mu_.native(), std::adopt_lock);
  const bool empty =
      emptied_.wait_until(native, deadline, [&]() EDS_REQUIRES(mu_) { return live_.empty(); });
  native.release();  // MutexLock unlocks
  return empty;
}

void ConnectionRegistry::Clear() {
  std::unordered_map<const ConnectionBase*, std::shared_ptr<ConnectionBase>> dropped;
  MutexLock lock(mu_);
  dropped.swap(live_);
}

namespace {

// A read fills at most one TLS record's worth; larger frames arrive over several reads.
constexpr size_t kReadBufferBytes = 16 * 1024;

enum class Phase { kHandshake, kReading, kInFlight, kWriting, kClosed };
enum class Deadline { kNone, kIdle, kFrame, kHandshake, kWrite };

template <typename Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Connection(ConnectionContext& context, Stream stream, PeerInfo peer)
      : context_(context),
        stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        timer_(executor_),
        peer_(std::move(peer)),
        number_(++context.connections_started),
        connected_at_ms_(UnixMillis(std::chrono::system_clock::now())),
        decoder_(context.options.max_message_bytes),
        timer_period_(std::min(context.options.idle_timeout, context.options.read_timeout)) {}

  const asio::any_io_executor& executor() const { return executor_; }

  // Runs on the strand, like every other member function.
  void Start() {
    if (phase_ == Phase::kClosed) return;  // stopped before it began
    last_activity_ = std::chrono::steady_clock::now();
    ArmTimer(last_activity_);
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      SetDeadline(Deadline::kHandshake, last_activity_ + context_.options.read_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
    } else {
      ReadMore();
    }
  }

  MllpPeer Describe() const override {
    return {number_,          peer_.address,    peer_.port,   peer_.tls,
            connected_at_ms_, messages_.load(), acks_.load(), last_message_at_ms_.load()};
  }

  void BeginStop() override {
    asio::post(executor_, [self = this->shared_from_this()] {
      self->stopping_ = true;
      if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kReading) {
        self->Close(LogLevel::kInfo, "listener stopping");
      }
    });
  }

  void CloseAfterStop() override {
    Close(LogLevel::kWarning, "listener stopped before the ACK was written");
  }

 private:
  tcp::socket& Socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void SetDeadline(Deadline kind, SteadyTime at) {
    deadline_kind_ = kind;
    deadline_ = at;
  }

  // One timer wait at a time, never longer than timer_period_: any deadline set later is at least
  // that far away, so moving the deadline never needs to cancel and re-arm the timer.
  void ArmTimer(SteadyTime now) {
    timer_.expires_at(deadline_kind_ == Deadline::kNone ? now + timer_period_
                                                        : std::min(deadline_, now + timer_period_));
    timer_.async_wait(
        [self = this->shared_from_this()](const error_code& ec) { self->OnTimer(ec); });
  }

  void OnTimer(const error_code& ec) {
    if (phase_ == Phase::kClosed || ec == asio::error::operation_aborted) return;
    const SteadyTime now = std::chrono::steady_clock::now();
    if (deadline_kind_ == Deadline::kNone || now < deadline_) {
      ArmTimer(now);
      return;
    }
    if (deadline_kind_ == Deadline::kIdle) {
      ++context_.counters.idle_timeouts;
      Close(LogLevel::kInfo, "idle timeout");
      return;
    }
    ++context_.counters.read_timeouts;
    const char* what = deadline_kind_ == Deadline::kFrame   ? "frame not completed in time"
                       : deadline_kind_ == Deadline::kWrite ? "ACK not read by the peer in time"
                                                            : "TLS handshake not completed in time";
    Close(LogLevel::kWarning, what);
  }

  void OnHandshake(const error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      ++context_.counters.tls_handshake_failures;
      Close(LogLevel::kWarning, "TLS handshake failed: " + ec.message());
      return;
    }
    if (stopping_) {
      Close(LogLevel::kInfo, "listener stopping");
      return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    ReadMore();
  }

  void ReadMore() {
    phase_ = Phase::kReading;
    if (decoder_.in_frame()) {
      SetDeadline(Deadline::kFrame, frame_start_ + context_.options.read_timeout);
    } else {
      SetDeadline(Deadline::kIdle, last_activity_ + context_.options.idle_timeout);
    }
    stream_.async_read_some(
        asio::buffer(read_buffer_),
        [self = this->shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const error_code& ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      if (eof && !decoder_.in_frame()) {
        Close(LogLevel::kInfo, "closed by the peer");
      } else {
        Close(LogLevel::kWarning,
              eof ? "closed by the peer inside a frame" : "read failed: " + ec.message());
      }
      return;
    }
    const uint64_t frames_before = decoder_.frames_started();
    const Status fed = decoder_.Feed(std::string_view(read_buffer_.data(), n));
    // A frame that began in this read has its read_timeout counted from now.
    if (decoder_.frames_started() != frames_before) frame_start_ = std::chrono::steady_clock::now();
    if (!fed.ok()) {
      ++context_.counters.framing_errors;
      if (fed.code() == StatusCode::kResourceExhausted) ++context_.counters.oversized_frames;
      Close(LogLevel::kWarning, "framing error: " + fed.message());
      return;
    }
    if (stopping_) {
      Close(LogLevel::kInfo, "listener stopping");
    } else if (decoder_.HasMessage()) {
      DispatchNext();
    } else {
      ReadMore();
    }
  }

  // Hands the oldest decoded message to the sink; nothing is read until its ACK is written.
  void DispatchNext() {
    phase_ = Phase::kInFlight;
    SetDeadline(Deadline::kNone, SteadyTime::max());
    const uint64_t sequence = ++sequence_;
    ++context_.counters.messages_received;
    ++messages_;
    last_message_at_ms_ = UnixMillis(std::chrono::system_clock::now());
    auto reply = [weak = this->weak_from_this(), gate = context_.gate,
                  sequence](std::string ack) mutable {
      gate->IfOpen([&] {
        // Under the gate's lock, so the last reference can never be released on this thread
        // after the listener's io_context is gone.
        if (std::shared_ptr<Connection> self = weak.lock()) {
          asio::post(self->executor_, [self, sequence, ack = std::move(ack)]() mutable {
            self->OnAck(sequence, std::move(ack));
          });
        }
      });
    };
    context_.sink.HandleMessage(decoder_.TakeMessage(), peer_, std::move(reply));
  }

  void OnAck(uint64_t sequence, std::string ack) {
    // A reply after close, or a second reply to the same message, is dropped.
    if (phase_ != Phase::kInFlight || sequence != sequence_) return;
    phase_ = Phase::kWriting;
    SetDeadline(Deadline::kWrite, std::chrono::steady_clock::now() + context_.options.read_timeout);
    out_.clear();
    AppendMllpFrame(ack, out_);
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(const error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close(LogLevel::kWarning, "ACK write failed: " + ec.message());
      return;
    }
    ++context_.counters.acks_sent;
    ++acks_;
    last_activity_ = std::chrono::steady_clock::now();
    if (stopping_) {
      Close(LogLevel::kInfo, "listener stopping");
    } else if (decoder_.HasMessage()) {
      DispatchNext();
    } else {
      // The time spent on the sink is ours, not the peer's: restart a partial frame's clock.
      if (decoder_.in_frame()) frame_start_ = last_activity_;
      ReadMore();
    }
  }

  void Close(LogLevel level, const std::string& reason) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    error_code ignored;
    timer_.cancel(ignored);
    Socket().close(ignored);
    Log(level, "mllp: connection closed",
        {{"EDS_PEER", peer_.address},
         {"EDS_PEER_PORT", std::to_string(peer_.port)},
         {"EDS_REASON", reason},
         {"EDS_ACKS", std::to_string(acks_.load())}});
    context_.registry.Remove(this);
  }

  ConnectionContext& context_;
  Stream stream_;
  const asio::any_io_executor executor_;  // the connection's strand
  asio::steady_timer timer_;
  const PeerInfo peer_;
  const uint64_t number_;
  const int64_t connected_at_ms_;
  // Read by Describe() from other threads.
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> acks_{0};
  std::atomic<int64_t> last_message_at_ms_{0};
  MllpDecoder decoder_;
  const std::chrono::milliseconds timer_period_;
  Phase phase_ = Phase::kReading;
  Deadline deadline_kind_ = Deadline::kNone;
  SteadyTime deadline_ = SteadyTime::max();
  SteadyTime last_activity_;  // start, handshake done, or last ACK written
  SteadyTime frame_start_;    // when the frame in progress began
  bool stopping_ = false;
  uint64_t sequence_ = 0;  // the message in flight
  std::array<char, kReadBufferBytes> read_buffer_;
  std::string out_;  // the framed ACK being written; reused
};

template <typename Stream>
void Launch(ConnectionContext& context, Stream stream, PeerInfo peer) {
  auto connection =
      std::make_shared<Connection<Stream>>(context, std::move(stream), std::move(peer));
  context.registry.Add(connection);
  asio::post(connection->executor(), [connection] { connection->Start(); });
}

}  // namespace

void StartConnection(ConnectionContext& context, tcp::socket socket, asio::ssl::context* tls,
                     PeerInfo peer) {
  error_code ignored;
  // An ACK is one small write waiting for the peer: do not let Nagle hold it back.
  socket.set_option(tcp::no_delay(true), ignored);
  if (tls != nullptr) {
    Launch(context, asio::ssl::stream<tcp::socket>(std::move(socket), *tls), std::move(peer));
  } else {
    Launch(context, std::move(socket), std::move(peer));
  }
}

}  // namespace eds::ingest::internal
