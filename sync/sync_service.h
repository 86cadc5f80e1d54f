// SyncService: the delivery loop. At each fire of the cron schedule (in the configured time zone,
// delayed by the node's stable jitter) it signs and queues the approved releases and sends the
// outbox in order. After a failure it retries with exponential back-off and jitter up to a
// ceiling instead of waiting for the next fire; a backlog bigger than one run goes out in
// consecutive runs. `RunNow` (edsctl sync now) does one run on the caller's thread; a failure
// there is retried by the loop like its own. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "sync/cron.h"
#include "sync/outbox.h"
#include "sync/upstream_client.h"

namespace eds::sync {

struct SyncOptions {
  UpstreamOptions upstream;
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
  // `outbox` must outlive the service. Starts the loop thread.
  static Result<std::unique_ptr<SyncService>> Start(Outbox& outbox, const SyncOptions& options,
                                                    const std::string& node_id);
  ~SyncService();  // stops the loop
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  void Stop();
  // One run now: queue approved releases, send the outbox.
  Result<DeliveryReport> RunNow();
  // When the loop runs next (RFC 3339).
  std::string NextRunAt() const;

 private:
  SyncService(Outbox& outbox, SyncOptions options, CronSchedule cron, std::string node_id,
              std::unique_ptr<UpstreamClient> client);
  void Loop();
  Result<DeliveryReport> RunOnce();
  // Sets the next run from a run's outcome: the next fire after a success, a back-off after a
  // failure (whoever ran it: the loop or RunNow). Holds mu_.
  void Schedule(const Result<DeliveryReport>& report);
  std::chrono::system_clock::time_point NextFire(std::chrono::system_clock::time_point after);

  Outbox& outbox_;
  const SyncOptions options_;
  const CronSchedule cron_;
  const std::string node_id_;
  std::unique_ptr<UpstreamClient> client_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t failures_ = 0;
  std::chrono::system_clock::time_point next_;
  std::thread thread_;
};

}  // namespace eds::sync
