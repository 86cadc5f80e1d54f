#include "daemon/update_poller.h"

#include "common/status_macros.h"

namespace eds::daemon {

Result<std::unique_ptr<UpdatePoller>> UpdatePoller::Start(const std::string& schedule,
                                                          const std::string& time_zone,
                                                          std::function<void()> poll,
                                                          std::function<void()> cancel) {
  EDS_ASSIGN_OR_RETURN(sync::CronSchedule cron, sync::CronSchedule::Parse(schedule));
  EDS_RETURN_IF_ERROR(sync::CheckTimeZone(time_zone));
  std::unique_ptr<UpdatePoller> poller(
      new UpdatePoller(std::move(cron), time_zone, std::move(poll), std::move(cancel)));
  poller->thread_ = std::thread([p = poller.get()] { p->Loop(); });
  return poller;
}

UpdatePoller::~UpdatePoller() { Stop(); }

void UpdatePoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  if (cancel_) cancel_();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UpdatePoller::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto next = cron_.NextFire(std::chrono::system_clock::now(), zone_);
    // Checked at start; a schedule that never fires just waits for Stop().
    const auto until =
        next.ok() ? *next : std::chrono::system_clock::now() + std::chrono::hours(24);
    if (wake_.wait_until(lock, until, [&] { return stop_; })) break;
    if (!next.ok()) continue;
    lock.unlock();
    poll_();
    lock.lock();
  }
}

}  // namespace eds::daemon
