// ControlServer: the UNIX socket edsctl talks to. One JSON request per line, one JSON response
// per line (docs/formats/control.md). The socket is created mode 0600, or 0660 with the configured
// group; every connection's peer credentials (SO_PEERCRED) are checked: root, the daemon's own
// user, or a member of the configured group. Requests run on the server's own threads; a
// streaming command (import) takes its connection to a thread of its own, at most
// `max_streams` at once. Thread-safe; Stop() waits for running commands and ends the streams.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "daemon/control_stream.h"

namespace eds::daemon {

// The answer to a request that failed: {"ok": false, "error": message, "code": name}.
nlohmann::json ErrorReply(const Status& s);

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ControlServerOptions {
  std::string socket_path;
  std::string group;  // empty: owner only (0600)
  int threads = 2;
  int read_timeout_ms = 10000;
  // Requests whose "cmd" is one of these go to the stream handler, each on a thread of its own.
  std::vector<std::string> stream_commands = {"import"};
  int max_streams = 2;  // streams running at once; one more is refused
};

// Answers one request; runs on a server thread; must be thread-safe.
using ControlHandler =
    std::function<nlohmann::json(const nlohmann::json& request, const PeerCredentials& peer)>;

// Serves one streaming request on its connection, on a thread of its own; returns when the
// stream ends (the connection is closed then). Once the server stops, `stream.Woken()` is true
// and every wait of `stream` ends with kCancelled: finish the current step and return.
using ControlStreamHandler = std::function<void(
    ControlStream& stream, const nlohmann::json& request, const PeerCredentials& peer)>;

class ControlServer {
 public:
  // Replaces a stale socket file; kFailedPrecondition when another daemon is listening on it.
  // Without a stream handler, the stream commands are answered by `handler` like any other.
  static Result<std::unique_ptr<ControlServer>> Start(const ControlServerOptions& options,
                                                      ControlHandler handler,
                                                      ControlStreamHandler stream_handler = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Wakes the streams and waits for them (each finishes its current step); later stream
  // requests are refused. The first step of a shutdown: an import stops within one chunk.
  void EndStreams();
  // Stops accepting, lets running commands finish, ends the streams (EndStreams), removes the
  // socket file. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `peer` may use the socket: root, `owner`, or a member of `group_gid` (primary group or
// one of the supplementary groups of its process). group_gid < 0 means no group.
bool PeerAllowed(const PeerCredentials& peer, uid_t owner, long group_gid);

// Client side, for edsctl: sends one request and returns the response (bounded wait).
Result<nlohmann::json> ControlRequest(const std::string& socket_path, const nlohmann::json& request,
                                      int timeout_ms = 600000);

}  // namespace eds::daemon
