// UpdatePoller: polls the operator's repository at each fire of update.schedule (in
// sync.time_zone), on a thread of its own; Stop() (also the destructor) ends it and aborts a
// download in flight.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"
#include "sync/cron.h"

namespace eds::daemon {

class UpdatePoller {
 public:
  // `poll` runs at each fire; `cancel` aborts a poll in flight (called by Stop()).
  static Result<std::unique_ptr<UpdatePoller>> Start(const std::string& schedule,
                                                     const std::string& time_zone,
                                                     std::function<void()> poll,
                                                     std::function<void()> cancel);
  ~UpdatePoller();
  void Stop();

 private:
  UpdatePoller(sync::CronSchedule cron, std::string zone, std::function<void()> poll,
               std::function<void()> cancel)
      : cron_(std::move(cron)),
        zone_(std::move(zone)),
        poll_(std::move(poll)),
        cancel_(std::move(cancel)) {}
  void Loop();

  const sync::CronSchedule cron_;
  const std::string zone_;
  std::function<void()> poll_;
  std::function<void()> cancel_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eds::daemon
