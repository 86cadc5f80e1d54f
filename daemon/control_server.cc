#include "daemon/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"

namespace eds::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;

// Supplementary groups of a process, from /proc/<pid>/status ("Groups: 4 24 27").
std::vector<long> ProcessGroups(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::vector<long> groups;
  while (std::getline(in, line)) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream ss(line.substr(7));
    for (long g; ss >> g;) groups.push_back(g);
  }
  return groups;
}

// The threads of the streaming commands: at most `max` at once; Stop() wakes them through a
// pipe every stream polls beside its socket, and joins them.
class StreamThreads {
 public:
  StreamThreads() {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  }
  ~StreamThreads() {
    Stop();
    for (int fd : wake_) {
      if (fd >= 0) ::close(fd);
    }
  }
  StreamThreads(const StreamThreads&) = delete;
  StreamThreads& operator=(const StreamThreads&) = delete;

  void set_max(int max) { max_ = std::max(1, max); }

  enum class Started { kYes, kTooMany, kStopping };

  // Serves the connection `fd` (with `buffered` bytes already read) on a new thread; when too
  // many run or the server stops, does not, and the caller keeps `fd`.
  Started Start(int fd, std::string buffered, std::function<void(ControlStream&)> serve) {
    MutexLock lock(mu_);
    if (stopping_) return Started::kStopping;
    // Threads that ended are joined here (they are done: the join does not wait).
    auto ended = std::partition(entries_.begin(), entries_.end(),
                                [](const Entry& e) { return !e.done->load(); });
    for (auto it = ended; it != entries_.end(); ++it) it->thread.join();
    entries_.erase(ended, entries_.end());
    if (static_cast<int>(entries_.size()) >= max_) return Started::kTooMany;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([fd, buffered = std::move(buffered), serve = std::move(serve), done,
                        wake = wake_[0]]() mutable {
      ControlStream stream(fd, std::move(buffered), wake);
      try {
        serve(stream);
      } catch (const std::exception& e) {
        LogError("control socket: a stream failed", {{"EDS_ERROR", e.what()}});
      }
      // Done before the connection closes: a client that saw it close may start another.
      done->store(true);
    });
    entries_.push_back({std::move(thread), std::move(done)});
    return Started::kYes;
  }

  void Stop() {
    std::vector<Entry> entries;
    {
      MutexLock lock(mu_);
      if (!stopping_ && wake_[1] >= 0) {
        const char byte = 1;
        if (::write(wake_[1], &byte, 1) != 1) LogWarning("control socket: cannot wake streams");
      }
      stopping_ = true;
      entries.swap(entries_);
    }
    for (auto& e : entries) e.thread.join();
  }

 private:
  struct Entry {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  Mutex mu_;
  std::vector<Entry> entries_ EDS_GUARDED_BY(mu_);
  bool stopping_ EDS_GUARDED_BY(mu_) = false;
  int max_ = 2;
  int wake_[2] = {-1, -1};
};

struct StreamSetup {
  const std::vector<std::string>& commands;
  const ControlStreamHandler& handler;  // empty: no streaming
  StreamThreads& threads;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, const ControlHandler& handler, const StreamSetup& streams,
             uid_t owner, long group_gid, int timeout_ms, std::atomic<int>& busy)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(handler),
        streams_(streams),
        owner_(owner),
        group_gid_(group_gid),
        timeout_ms_(timeout_ms),
        busy_(busy) {}

  void Start() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
    peer_ = {cred.pid, cred.uid, cred.gid};
    if (!PeerAllowed(peer_, owner_, group_gid_)) {
      LogWarning("control socket: connection refused",
                 {{"EDS_PEER_UID", std::to_string(peer_.uid)},
                  {"EDS_PEER_PID", std::to_string(peer_.pid)}});
      Reply({{"ok", false}, {"error", "permission denied"}});
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(timeout_ms_));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket_.close();
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, kMaxRequestBytes), '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       size_t n) { self->OnRequest(ec, n); });
  }

 private:
  void OnRequest(const boost::system::error_code& ec, size_t n) {
    timer_.cancel();
    if (ec) {
      if (ec == asio::error::not_found) Reply({{"ok", false}, {"error", "request too large"}});
      return;
    }
    nlohmann::json request = nlohmann::json::parse(buffer_.substr(0, n), nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      Reply({{"ok", false}, {"error", "request is not a JSON object"}});
      return;
    }
    const auto found = request.find("cmd");
    const std::string cmd =
        found != request.end() && found->is_string() ? found->get<std::string>() : "";
    if (streams_.handler && std::find(streams_.commands.begin(), streams_.commands.end(), cmd) !=
                                streams_.commands.end()) {
      StartStream(std::move(request), buffer_.substr(n), cmd);
      return;
    }
    nlohmann::json response;
    ++busy_;  // the command runs: Stop() waits for it
    try {
      response = handler_(request, peer_);
    } catch (const std::exception&) {
      response = {{"ok", false}, {"error", "malformed request"}};
    }
    Reply(response);
    --busy_;
  }

  // Hands the socket to a stream thread; the Asio side lets go of it first (released, not
  // closed, so the reactor forgets it).
  void StartStream(nlohmann::json request, std::string buffered, const std::string& cmd) {
    boost::system::error_code ec;
    const int fd = socket_.release(ec);
    if (ec) return;
    const ControlStreamHandler& handler = streams_.handler;
    const PeerCredentials peer = peer_;
    const auto started = streams_.threads.Start(
        fd, std::move(buffered), [&handler, request = std::move(request), peer](ControlStream& s) {
          handler(s, request, peer);
        });
    if (started != StreamThreads::Started::kYes) {
      ControlStream stream(fd);  // closes it
      const std::string error = started == StreamThreads::Started::kTooMany
                                    ? "too many " + cmd + "s running"  // "too many imports running"
                                    : "edsd is stopping";
      stream.WriteLine({{"ok", false}, {"error", error}}, std::chrono::seconds(1)).IgnoreError();
    }
  }

  void Reply(const nlohmann::json& response) {
    out_ = response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    ++busy_;  // until the reply is written: Stop() waits for it
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(local::socket::shutdown_both, ignored);
                        --self->busy_;
                      });
  }

  local::socket socket_;
  asio::steady_timer timer_;
  const ControlHandler& handler_;
  const StreamSetup& streams_;
  uid_t owner_;
  long group_gid_;
  int timeout_ms_;
  std::atomic<int>& busy_;
  PeerCredentials peer_;
  std::string buffer_;
  std::string out_;
};

}  // namespace

bool PeerAllowed(const PeerCredentials& peer, uid_t owner, long group_gid) {
  if (peer.uid == 0 || peer.uid == owner) return true;
  if (group_gid < 0) return false;
  if (static_cast<long>(peer.gid) == group_gid) return true;
  for (long g : ProcessGroups(peer.pid)) {
    if (g == group_gid) return true;
  }
  return false;
}

struct ControlServer::Impl {
  ControlServerOptions options;
  ControlHandler handler;
  ControlStreamHandler stream_handler;
  StreamThreads stream_threads;
  std::unique_ptr<StreamSetup> streams;
  asio::io_context io;
  local::acceptor acceptor{io};
  std::vector<std::thread> threads;
  long group_gid = -1;
  bool stopped = false;
  std::atomic<int> busy{0};  // commands running or replying

  void Accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
      if (ec) return;  // acceptor closed
      std::make_shared<Connection>(std::move(socket), handler, *streams, ::geteuid(), group_gid,
                                   options.read_timeout_ms, busy)
          ->Start();
      Accept();
    });
  }
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<ControlServer>> ControlServer::Start(const ControlServerOptions& options,
                                                            ControlHandler handler,
                                                            ControlStreamHandler stream_handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->stream_handler = std::move(stream_handler);
  impl->stream_threads.set_max(options.max_streams);
  impl->streams = std::make_unique<StreamSetup>(
      StreamSetup{impl->options.stream_commands, impl->stream_handler, impl->stream_threads});
  if (!options.group.empty()) {
    const group* g = ::getgrnam(options.group.c_str());
    if (g == nullptr)
      return InvalidArgumentError("control.group: no group named '" + options.group + "'");
    impl->group_gid = static_cast<long>(g->gr_gid);
  }
  // A socket file left by a crashed daemon is replaced; a live one is not.
  if (ControlRequest(options.socket_path, {{"cmd", "ping"}}, 1000).ok()) {
    return FailedPreconditionError("another edsd is listening on " + options.socket_path);
  }
  ::unlink(options.socket_path.c_str());
  boost::system::error_code ec;
  impl->acceptor.open(local(), ec);
  // The socket is created with the final mode: no window where others could connect.
  const mode_t mode = options.group.empty() ? 0600 : 0660;
  const mode_t old_umask = ::umask(static_cast<mode_t>(0777 & ~mode));
  if (!ec) impl->acceptor.bind(local::endpoint(options.socket_path), ec);
  ::umask(old_umask);
  if (ec) {
    return FailedPreconditionError("cannot create the control socket " + options.socket_path +
                                   ": " + ec.message());
  }
  if (impl->group_gid >= 0 && ::chown(options.socket_path.c_str(), static_cast<uid_t>(-1),
                                      static_cast<gid_t>(impl->group_gid)) != 0) {
    return FailedPreconditionError("cannot give the control socket to group " + options.group);
  }
  impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return FailedPreconditionError("cannot listen on " + options.socket_path + ": " + ec.message());
  impl->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::EndStreams() {
  if (impl_) impl_->stream_threads.Stop();
}

void ControlServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  // Running commands finish and reply; idle connections are dropped; each stream finishes its
  // current step (an import: the chunk being stored) and closes.
  while (impl_->busy.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->stream_threads.Stop();
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  ::unlink(impl_->options.socket_path.c_str());
}

Result<nlohmann::json> ControlRequest(const std::string& socket_path, const nlohmann::json& request,
                                      int timeout_ms) {
  asio::io_context io;
  local::socket socket(io);
  boost::system::error_code ec;
  socket.connect(local::endpoint(socket_path), ec);
  if (ec) {
    return UnavailableError("cannot connect to edsd at " + socket_path + ": " + ec.message() +
                            " (is edsd running?)");
  }
  std::string out = request.dump() + "\n";
  std::string in;
  bool timed_out = false;
  asio::steady_timer timer(io, std::chrono::milliseconds(timeout_ms));
  timer.async_wait([&](const boost::system::error_code& e) {
    if (!e) {
      timed_out = true;
      socket.close();
    }
  });
  // Read while writing: edsd may answer (a refusal) and close before it reads the request,
  // and that answer must still reach the caller.
  asio::async_write(socket, asio::buffer(out), [](const boost::system::error_code&, size_t) {});
  asio::async_read_until(socket, asio::dynamic_buffer(in, 16 << 20), '\n',
                         [&](const boost::system::error_code& e, size_t) {
                           ec = e;
                           timer.cancel();
                         });
  io.run();
  if (timed_out) return DeadlineExceededError("edsd did not answer in time");
  if (in.empty()) return UnavailableError("edsd closed the connection: " + ec.message());
  auto response = nlohmann::json::parse(in, nullptr, false);
  if (response.is_discarded()) return DataLossError("edsd sent a malformed response");
  return response;
}

nlohmann::json ErrorReply(const Status& s) {
  return {{"ok", false}, {"error", s.message()}, {"code", std::string(StatusCodeName(s.code()))}};
}

}  // namespace eds::daemon
