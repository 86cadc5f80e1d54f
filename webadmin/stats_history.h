// StatsHistory: the points the dashboard's charts draw (records stored, bytes on disk). One point
// a minute for the last day, in memory; one an hour for the last 90 days, saved in the store (one
// record, rewritten each hour with an audit entry) so that the charts survive restarts and show
// the box's growth over months. Thread-safe; `store` and `clock` must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/result.h"
#include "storage/store.h"

namespace eds::webadmin {

struct StatsPoint {
  int64_t time_ms = 0;  // Unix milliseconds
  uint64_t records = 0;
  uint64_t disk_bytes = 0;

  friend bool operator==(const StatsPoint&, const StatsPoint&) = default;
};

class StatsHistory {
 public:
  // Reads the saved hourly points (none when the store has no history yet). kDataLoss when the
  // saved record is not a history.
  static Result<std::unique_ptr<StatsHistory>> Load(storage::Store& store, Clock& clock);

  // Takes a point when a minute has passed since the last one; saves the hourly series when an
  // hour has passed since its last point. The daemon calls it about once a minute.
  Status Record();
  // The hourly points older than the first minute point, then the minute points; oldest first.
  std::vector<StatsPoint> Points() const;

  static constexpr size_t kMinutePoints = 24 * 60;
  static constexpr size_t kHourPoints = 90 * 24;

 private:
  StatsHistory(storage::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  storage::Store& store_;
  Clock& clock_;
  mutable Mutex mu_;
  std::deque<StatsPoint> minutes_ EDS_GUARDED_BY(mu_);
  std::deque<StatsPoint> hours_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::webadmin
