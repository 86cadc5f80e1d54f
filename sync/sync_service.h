// SyncService: the delivery loop. At each fire of the cron schedule (in the configured time zone,
// delayed by the node's stable jitter) it signs and queues the approved releases and sends the
// outbox in order. After a failure it retries with exponential back-off and jitter up to a
// ceiling instead of waiting for the next fire; a backlog bigger than one run goes out in
// consecutive runs. `RunNow` (edsctl sync now) does one run on the caller's thread; a failure
// there is retried by the loop like its own. Without an upstream URL the service waits,
// unconfigured, until Reconfigure() gives it one (the web admin's setup page may). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "sync/cron.h"
#include "sync/outbox.h"
#include "sync/upstream_client.h"

namespace eds::sync {

struct SyncOptions {
  UpstreamOptions upstream;  // an empty url: no upstream yet
  std::string schedule = "0 6 * * *";
  std::string time_zone = "Europe/Paris";
  std::chrono::seconds jitter{900};
  std::chrono::seconds retry_initial{30};
  std::chrono::seconds retry_max{3600};
  size_t batch = 1000;  // releases sent per run at most
};

// The delay before retry number `failures` (1 = the first retry): retry_initial doubled per
// failure, capped at retry_max, then scaled by `unit` in [0, 1) into its upper half, so a fleet
// that failed together does not retry together.
std::chrono::milliseconds RetryDelay(uint64_t failures, std::chrono::seconds initial,
                                     std::chrono::seconds ceiling, double unit);

class SyncService {
 public:
  // `outbox` must outlive the service. Checks the options and starts the loop thread.
  static Result<std::unique_ptr<SyncService>> Start(Outbox& outbox, const SyncOptions& options,
                                                    const std::string& node_id);
  ~SyncService();  // stops the loop
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  void Stop();
  // New settings from now on (a delivery in flight finishes with the old ones). On error the
  // running settings stay.
  Status Reconfigure(const SyncOptions& options);
  bool Configured() const;
  // One run now: queue approved releases, send the outbox. kFailedPrecondition unconfigured.
  Result<DeliveryReport> RunNow();
  // When the loop runs next (RFC 3339), "" when unconfigured.
  std::string NextRunAt() const;

 private:
  struct Setup {
    SyncOptions options;
    std::optional<CronSchedule> cron;
    std::shared_ptr<UpstreamClient> client;  // null: no upstream
  };
  static Result<Setup> Prepare(const SyncOptions& options);
  SyncService(Outbox& outbox, std::string node_id)
      : outbox_(outbox), node_id_(std::move(node_id)) {}
  void Loop();
  Result<DeliveryReport> RunOnce();
  // Sets the next run from a run's outcome: the next fire after a success, a back-off after a
  // failure (whoever ran it: the loop or RunNow). Holds mu_.
  void Schedule(const Result<DeliveryReport>& report);
  std::chrono::system_clock::time_point NextFire(std::chrono::system_clock::time_point after);

  Outbox& outbox_;
  const std::string node_id_;

  mutable std::mutex mu_;
  Setup setup_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t failures_ = 0;
  std::chrono::system_clock::time_point next_ = std::chrono::system_clock::time_point::max();
  std::thread thread_;
};

}  // namespace eds::sync
