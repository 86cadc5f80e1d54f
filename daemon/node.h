// Node: owns every module of the running daemon and starts and stops them in dependency order
// (store, then the control socket and the admin server). Run() waits for signals: SIGTERM/SIGINT
// stop accepting, let in-flight requests finish, close the store and return 0; SIGHUP re-reads
// the configuration, applies what can change at run time and logs what needs a restart. The
// systemd notify protocol (READY, STATUS, RELOADING, STOPPING, WATCHDOG) follows each step.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "daemon/config.h"

namespace eds::daemon {

class Node {
 public:
  // Opens the store (making the dev master key and TLS certificate when the config asks for
  // them) and starts the listeners. Errors name what failed; nothing is left running.
  static Result<std::unique_ptr<Node>> Start(Config config, std::string config_path);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Blocks until SIGTERM or SIGINT, then shuts down; returns the process exit code.
  // The caller must have blocked those signals in every thread (BlockSignals) first.
  int Run();

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and threads it creates later), so Run()
// can take them synchronously.
void BlockSignals();

}  // namespace eds::daemon
