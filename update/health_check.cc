#include "update/health_check.h"

namespace eds::update {

Status HealthCheck::Check() {
  if (options_.command.empty()) return FailedPreconditionError("no health check configured");
  auto run = runner_.Run(options_.command, options_.timeout);
  if (!run.ok()) return FailedPreconditionError("health check failed: " + run.status().ToString());
  if (run->exit_code != 0) {
    return FailedPreconditionError("health check failed with exit code " +
                                   std::to_string(run->exit_code) + ": " + run->output);
  }
  return OkStatus();
}

}  // namespace eds::update
