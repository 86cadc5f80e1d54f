#include "sync/sync_service.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace eds::sync {

using std::chrono::milliseconds;
using std::chrono::system_clock;

milliseconds RetryDelay(uint64_t failures, std::chrono::seconds initial,
                        std::chrono::seconds ceiling, double unit) {
  const double base =
      static_cast<double>(std::chrono::duration_cast<milliseconds>(initial).count());
  const double cap = static_cast<double>(std::chrono::duration_cast<milliseconds>(ceiling).count());
  const double exponent =
      static_cast<double>(std::min<uint64_t>(failures == 0 ? 0 : failures - 1, 40));
  const double full = std::min(cap, base * std::exp2(exponent));
  return milliseconds(static_cast<int64_t>(full * (0.5 + 0.5 * std::clamp(unit, 0.0, 1.0))));
}

Result<std::unique_ptr<SyncService>> SyncService::Start(Outbox& outbox, const SyncOptions& options,
                                                        const std::string& node_id) {
  EDS_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(options.schedule));
  EDS_RETURN_IF_ERROR(CheckTimeZone(options.time_zone));
  EDS_ASSIGN_OR_RETURN(auto client, UpstreamClient::Create(options.upstream));
  std::unique_ptr<SyncService> service(
      new SyncService(outbox, options, std::move(cron), node_id, std::move(client)));
  service->next_ = service->NextFire(system_clock::now());
  service->thread_ = std::thread([s = service.get()] { s->Loop(); });
  return service;
}

SyncService::SyncService(Outbox& outbox, SyncOptions options, CronSchedule cron,
                         std::string node_id, std::unique_ptr<UpstreamClient> client)
    : outbox_(outbox),
      options_(std::move(options)),
      cron_(std::move(cron)),
      node_id_(std::move(node_id)),
      client_(std::move(client)) {}

SyncService::~SyncService() { Stop(); }

void SyncService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  client_->Cancel();  // a delivery in flight ends now, not at its time limit
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

system_clock::time_point SyncService::NextFire(system_clock::time_point after) {
  auto fire = cron_.NextFire(after, options_.time_zone);
  if (!fire.ok()) {
    // The expression was checked at start; an expression that never fires waits a day.
    return after + std::chrono::hours(24);
  }
  auto jittered =
      JitteredFire(*fire, std::chrono::duration_cast<milliseconds>(options_.jitter), node_id_);
  return jittered.ok() ? *jittered : *fire;
}

std::string SyncService::NextRunAt() const {
  std::lock_guard lock(mu_);
  return FormatRfc3339(next_);
}

Result<DeliveryReport> SyncService::RunOnce() {
  auto queued = outbox_.QueueApproved("sync");
  if (!queued.ok()) return queued.status();
  return outbox_.Deliver(*client_, options_.batch);
}

Result<DeliveryReport> SyncService::RunNow() {
  auto report = RunOnce();
  {
    std::lock_guard lock(mu_);
    Schedule(report);
  }
  wake_.notify_all();  // the loop takes the new deadline
  return report;
}

void SyncService::Schedule(const Result<DeliveryReport>& report) {
  const auto now = system_clock::now();
  if (report.ok() && report->failure.ok()) {
    failures_ = 0;
    // A full batch means more may wait: go on at once; else sleep until the next fire.
    next_ = report->delivered >= options_.batch ? now : NextFire(now);
    return;
  }
  ++failures_;
  const Status why = report.ok() ? report->failure : report.status();
  const double unit = static_cast<double>(randombytes_uniform(1u << 20)) / (1u << 20);
  next_ = now + RetryDelay(failures_, options_.retry_initial, options_.retry_max, unit);
  LogWarning("release delivery failed; retrying later",
             {{"EDS_ERROR", why.ToString()}, {"EDS_NEXT_ATTEMPT", FormatRfc3339(next_)}});
}

void SyncService::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (wake_.wait_until(lock, next_, [&] { return stop_; })) break;
    if (system_clock::now() < next_) continue;  // woken early: the deadline may have moved
    lock.unlock();
    auto report = RunOnce();
    lock.lock();
    Schedule(report);
  }
}

}  // namespace eds::sync
