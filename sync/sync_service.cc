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

Result<SyncService::Setup> SyncService::Prepare(const SyncOptions& options) {
  Setup setup;
  setup.options = options;
  EDS_ASSIGN_OR_RETURN(CronSchedule cron, CronSchedule::Parse(options.schedule));
  setup.cron = std::move(cron);
  EDS_RETURN_IF_ERROR(CheckTimeZone(options.time_zone));
  if (!options.upstream.url.empty()) {
    EDS_ASSIGN_OR_RETURN(auto client, UpstreamClient::Create(options.upstream));
    setup.client = std::move(client);
  }
  return setup;
}

Result<std::unique_ptr<SyncService>> SyncService::Start(Outbox& outbox, const SyncOptions& options,
                                                        const std::string& node_id) {
  EDS_ASSIGN_OR_RETURN(Setup setup, Prepare(options));
  std::unique_ptr<SyncService> service(new SyncService(outbox, node_id));
  {
    std::lock_guard lock(service->mu_);
    service->setup_ = std::move(setup);
    if (service->setup_.client) service->next_ = service->NextFire(system_clock::now());
  }
  service->thread_ = std::thread([s = service.get()] { s->Loop(); });
  return service;
}

Status SyncService::Reconfigure(const SyncOptions& options) {
  EDS_ASSIGN_OR_RETURN(Setup setup, Prepare(options));
  {
    std::lock_guard lock(mu_);
    setup_ = std::move(setup);
    failures_ = 0;
    next_ = setup_.client ? NextFire(system_clock::now()) : system_clock::time_point::max();
  }
  wake_.notify_all();
  return OkStatus();
}

bool SyncService::Configured() const {
  std::lock_guard lock(mu_);
  return setup_.client != nullptr;
}

SyncService::~SyncService() { Stop(); }

void SyncService::Stop() {
  std::shared_ptr<UpstreamClient> client;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    client = setup_.client;
  }
  if (client) client->Cancel();  // a delivery in flight ends now, not at its time limit
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

system_clock::time_point SyncService::NextFire(system_clock::time_point after) {
  auto fire = setup_.cron->NextFire(after, setup_.options.time_zone);
  if (!fire.ok()) {
    // The expression was checked; an expression that never fires waits a day.
    return after + std::chrono::hours(24);
  }
  auto jittered = JitteredFire(
      *fire, std::chrono::duration_cast<milliseconds>(setup_.options.jitter), node_id_);
  return jittered.ok() ? *jittered : *fire;
}

std::string SyncService::NextRunAt() const {
  std::lock_guard lock(mu_);
  return setup_.client ? FormatRfc3339(next_) : "";
}

Result<DeliveryReport> SyncService::RunOnce() {
  std::shared_ptr<UpstreamClient> client;
  size_t batch = 0;
  {
    std::lock_guard lock(mu_);
    client = setup_.client;
    batch = setup_.options.batch;
  }
  if (!client) {
    return FailedPreconditionError(
        "no upstream is configured (sync.upstream_url, or the setup page's upstream URL)");
  }
  auto queued = outbox_.QueueApproved("sync");
  if (!queued.ok()) return queued.status();
  return outbox_.Deliver(*client, batch);
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
  if (!setup_.client) {
    next_ = system_clock::time_point::max();
    return;
  }
  if (report.ok() && report->failure.ok()) {
    failures_ = 0;
    // A full batch means more may wait: go on at once; else sleep until the next fire.
    next_ = report->delivered >= setup_.options.batch ? now : NextFire(now);
    return;
  }
  ++failures_;
  const Status why = report.ok() ? report->failure : report.status();
  const double unit = static_cast<double>(randombytes_uniform(1u << 20)) / (1u << 20);
  next_ = now + RetryDelay(failures_, setup_.options.retry_initial, setup_.options.retry_max, unit);
  LogWarning("release delivery failed; retrying later",
             {{"EDS_ERROR", why.ToString()}, {"EDS_NEXT_ATTEMPT", FormatRfc3339(next_)}});
}

void SyncService::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!setup_.client) {  // no upstream: nothing to wait for but Reconfigure() or Stop()
      wake_.wait(lock);
      continue;
    }
    if (wake_.wait_until(lock, next_, [&] { return stop_; })) break;
    if (system_clock::now() < next_) continue;  // woken early: the deadline may have moved
    lock.unlock();
    auto report = RunOnce();
    lock.lock();
    Schedule(report);
  }
}

}  // namespace eds::sync
