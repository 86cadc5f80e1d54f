// Drives the real edsd and edsctl binaries: a config in a fresh directory, a process whose
// stderr goes to a file, a NOTIFY_SOCKET the test owns, and bounded waits everywhere.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace eds::testing {

// A free TCP port on 127.0.0.1, below the kernel's ephemeral range (see edsd_harness.cc).
uint16_t FreeLoopbackPort();

// The datagram socket systemd would own: edsd sends its notify messages here.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path);
  ~NotifySocket();
  const std::string& path() const { return path_; }
  // The next datagram, or nullopt after `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);
  // Receives until a datagram equals `wanted` (true) or `timeout` passes; all seen go to `seen`.
  bool WaitFor(const std::string& wanted, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen);

 private:
  std::string path_;
  int fd_ = -1;
};

class EdsdProcess {
 public:
  // Starts `binary` with `args`, extra environment `env` ("K=V"), stderr and stdout to `log_path`.
  EdsdProcess(const std::string& binary, const std::vector<std::string>& args,
              const std::vector<std::string>& env, const std::string& log_path);
  ~EdsdProcess();  // kills the process if it still runs
  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Exit status (as from waitpid) or nullopt when still running after `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  std::string Log() const;
  // Waits until the log contains `text`.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool exited_ = false;
};

// Result of running a command to completion.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env = {});

// Path of a built binary (edsd, edsctl) in the build tree.
std::string BuiltBinary(const std::string& name);

// Writes a development config under `dir` (data, key, certificate, socket all inside it) with the
// admin server on `port`, plus `extra` TOML appended; returns its path.
// The MLLP and FHIR listeners get free loopback ports, returned when asked for. [aggregate] (the
// shipped packs) and [update] (directory slots) are written unless `extra` has its own.
std::string WriteTestConfig(const TempDir& dir, uint16_t port, const std::string& extra = "",
                            uint16_t* mllp_port = nullptr, uint16_t* fhir_port = nullptr);

}  // namespace eds::testing
