#include "ingest/mllp/listener.h"

#include <algorithm>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <thread>
#include <utility>

#include "common/log.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "ingest/mllp/internal/connection.h"
#include "ingest/mllp/internal/peer_allow_list.h"
#include "ingest/mllp/internal/tls_server_context.h"

namespace eds::ingest {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// After a failed accept (out of file descriptors, say), wait before trying again instead of
// spinning on the error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

Status ValidateOptions(const MllpListenerOptions& o) {
  if (o.max_message_bytes == 0) return InvalidArgumentError("max_message_bytes must be positive");
  if (o.max_connections < 1) return InvalidArgumentError("max_connections must be at least 1");
  if (o.idle_timeout.count() <= 0) return InvalidArgumentError("idle_timeout must be positive");
  if (o.read_timeout.count() <= 0) return InvalidArgumentError("read_timeout must be positive");
  if (o.stop_timeout.count() < 0) return InvalidArgumentError("stop_timeout must not be negative");
  if (o.threads < 1) return InvalidArgumentError("threads must be at least 1");
  if (o.tls_cert_path.empty() != o.tls_key_path.empty()) {
    return InvalidArgumentError("tls_cert_path and tls_key_path must be set together");
  }
  return OkStatus();
}

// IPv4 peers on a dual-stack socket show up as ::ffff:a.b.c.d; log and report them as IPv4.
std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

struct MllpListener::Impl {
  Impl(const MllpListenerOptions& options, Hl7Sink& sink) : context(sink, options) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [this](const error_code& ec, tcp::socket socket) {
      OnAccept(ec, std::move(socket));
    });
  }

  // Runs on accept_strand.
  void OnAccept(const error_code& ec, tcp::socket socket) {
    if (stopping.load()) return;  // the socket, if any, closes as it goes out of scope
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      LogWarning("mllp: accept failed", {{"EDS_ERROR", ec.message()}});
      accept_retry.expires_after(kAcceptRetryDelay);
      accept_retry.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec && !stopping.load()) Accept();
      });
      return;
    }
    error_code endpoint_ec;
    const tcp::endpoint remote = socket.remote_endpoint(endpoint_ec);
    if (!endpoint_ec) Admit(std::move(socket), remote);  // else the peer already left
    Accept();
  }

  void Admit(tcp::socket socket, const tcp::endpoint& remote) {
    PeerInfo peer{AddressText(remote.address()), remote.port(), tls != nullptr};
    std::vector<LogField> fields = {{"EDS_PEER", peer.address},
                                    {"EDS_PEER_PORT", std::to_string(peer.port)}};
    error_code ignored;
    if (!allow_list.Allows(remote.address())) {
      ++context.counters.connections_refused_peer;
      LogWarning("mllp: connection refused, peer not on the allow-list", fields);
      socket.close(ignored);
      return;
    }
    const auto limit = static_cast<size_t>(context.options.max_connections);
    if (context.registry.size() >= limit) {
      ++context.counters.connections_refused_limit;
      fields.emplace_back("EDS_LIMIT", std::to_string(limit));
      LogWarning("mllp: connection refused, connection limit reached", fields);
      socket.close(ignored);
      return;
    }
    ++context.counters.connections_accepted;
    fields.emplace_back("EDS_TLS", peer.tls ? "1" : "0");
    LogInfo("mllp: connection accepted", fields);
    internal::StartConnection(context, std::move(socket), tls.get(), std::move(peer));
  }

  // Declared in destruction order: the io_context goes before what its handlers use.
  internal::ConnectionContext context;
  internal::PeerAllowList allow_list;
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context io;
  asio::strand<asio::io_context::executor_type> accept_strand = asio::make_strand(io);
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};
  std::vector<std::thread> threads;
  uint16_t port = 0;
  std::atomic<bool> stopping{false};
  Mutex stop_mu;
  bool stopped EDS_GUARDED_BY(stop_mu) = false;
};

MllpListener::MllpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MllpListener::~MllpListener() { Stop(); }

Result<std::unique_ptr<MllpListener>> MllpListener::Start(const MllpListenerOptions& options,
                                                          Hl7Sink& sink) {
  EDS_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl = std::make_unique<Impl>(options, sink);
  EDS_ASSIGN_OR_RETURN(impl->allow_list, internal::PeerAllowList::Parse(options.allowed_peers));
  if (!options.tls_cert_path.empty()) {
    EDS_ASSIGN_OR_RETURN(
        impl->tls, internal::MakeTlsServerContext(options.tls_cert_path, options.tls_key_path));
  }
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    return InvalidArgumentError("bind_address: '" + options.bind_address +
                                "' is not an IP address");
  }
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.bind_address + " port " + std::to_string(options.port);
  tcp::acceptor& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  // "::" should also take IPv4 clients, whatever the system default for IPV6_V6ONLY is.
  if (!ec && address.is_v6() && address.is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return FailedPreconditionError("cannot listen on " + where + ": " + ec.message());
  impl->port = acceptor.local_endpoint(ec).port();
  if (ec) return FailedPreconditionError("cannot read the bound port: " + ec.message());
  impl->Accept();
  for (int i = 0; i < options.threads; ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  LogInfo("mllp: listening", {{"EDS_ADDRESS", options.bind_address},
                              {"EDS_PORT", std::to_string(impl->port)},
                              {"EDS_TLS", impl->tls != nullptr ? "1" : "0"}});
  return std::unique_ptr<MllpListener>(new MllpListener(std::move(impl)));
}

void MllpListener::Stop() {
  Impl& impl = *impl_;
  {
    MutexLock lock(impl.stop_mu);
    if (impl.stopped) return;
    impl.stopped = true;
  }
  EDS_CHECK(!impl.io.get_executor().running_in_this_thread(),
            "MllpListener::Stop called from one of its own threads");
  const auto deadline = std::chrono::steady_clock::now() + impl.context.options.stop_timeout;
  impl.stopping.store(true);
  // Closing the acceptor on its strand, and waiting for that, guarantees that no connection is
  // admitted after the snapshot below.
  std::promise<void> closed;
  std::future<void> acceptor_closed = closed.get_future();
  asio::post(impl.accept_strand, [&impl, &closed] {
    error_code ignored;
    impl.acceptor.close(ignored);
    impl.accept_retry.cancel(ignored);
    closed.set_value();
  });
  const bool acceptor_done = acceptor_closed.wait_until(deadline) == std::future_status::ready;
  for (const auto& connection : impl.context.registry.Snapshot()) connection->BeginStop();
  if (!acceptor_done || !impl.context.registry.WaitUntilEmpty(deadline)) {
    LogWarning("mllp: stop timeout, closing connections with messages in flight",
               {{"EDS_CONNECTIONS", std::to_string(impl.context.registry.size())}});
  }
  // From here on a late reply from the sink is dropped rather than posted to a dead io_context.
  impl.context.gate->Close();
  impl.io.stop();
  for (std::thread& t : impl.threads) t.join();
  // Pending handlers keep these objects alive until the io_context goes; their sockets must not.
  for (const auto& connection : impl.context.registry.Snapshot()) connection->CloseAfterStop();
  impl.context.registry.Clear();
  LogInfo("mllp: listener stopped", {{"EDS_PORT", std::to_string(impl.port)}});
}

uint16_t MllpListener::port() const { return impl_->port; }

MllpListenerStats MllpListener::stats() const {
  const internal::ListenerCounters& c = impl_->context.counters;
  MllpListenerStats s;
  s.connections_accepted = c.connections_accepted.load();
  s.connections_refused_peer = c.connections_refused_peer.load();
  s.connections_refused_limit = c.connections_refused_limit.load();
  s.connections_active = impl_->context.registry.size();
  s.messages_received = c.messages_received.load();
  s.acks_sent = c.acks_sent.load();
  s.framing_errors = c.framing_errors.load();
  s.oversized_frames = c.oversized_frames.load();
  s.idle_timeouts = c.idle_timeouts.load();
  s.read_timeouts = c.read_timeouts.load();
  s.tls_handshake_failures = c.tls_handshake_failures.load();
  return s;
}

std::vector<MllpPeer> MllpListener::peers() const {
  std::vector<MllpPeer> out;
  for (const auto& connection : impl_->context.registry.Snapshot()) {
    out.push_back(connection->Describe());
  }
  std::sort(out.begin(), out.end(),
            [](const MllpPeer& a, const MllpPeer& b) { return a.connection < b.connection; });
  return out;
}

}  // namespace eds::ingest
