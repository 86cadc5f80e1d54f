// CommandRunner: runs an external program (argv, no shell) and waits for it, bounded by a
// timeout after which it is killed. The seam through which the RAUC back-end and the health check
// act on the system, so tests can record the command lines or run scripts instead.
// Errors: kUnavailable when the program cannot start, kDeadlineExceeded on timeout; a program
// that ran and exited non-zero is a successful Run with that exit code.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace eds::update {

struct CommandResult {
  int exit_code = 0;   // 128 + signal number when it was killed by a signal
  std::string output;  // stdout and stderr together, capped at 64 KiB
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual Result<CommandResult> Run(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout) = 0;
};

// Runs real processes with posix_spawnp (argv[0] is looked up in PATH).
class ProcessRunner final : public CommandRunner {
 public:
  Result<CommandResult> Run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;
};

}  // namespace eds::update
