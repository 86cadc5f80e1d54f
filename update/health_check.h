// HealthCheck: decides whether a freshly booted system may be committed, by running a
// configured command (e.g. `edsd --config /etc/eds/edsd.toml --self-test`): exit 0 is healthy.
// Check() returns OK when healthy, kFailedPrecondition with the command's output otherwise
// (including a command that cannot start or does not finish in time). The runner must outlive it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "update/command_runner.h"

namespace eds::update {

struct HealthCheckOptions {
  std::vector<std::string> command;  // argv; required
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
};

class HealthCheck {
 public:
  HealthCheck(CommandRunner& runner, HealthCheckOptions options)
      : runner_(runner), options_(std::move(options)) {}
  Status Check();

 private:
  CommandRunner& runner_;
  HealthCheckOptions options_;
};

}  // namespace eds::update
