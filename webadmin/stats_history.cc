#include "webadmin/stats_history.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status_macros.h"

namespace eds::webadmin {
namespace {

constexpr std::string_view kRecordId = "webadmin/stats-history";
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;

// Saved as {"points": [[time_ms, records, disk_bytes], ...]}, oldest first.
std::string Encode(const std::deque<StatsPoint>& points) {
  nlohmann::json list = nlohmann::json::array();
  for (const StatsPoint& p : points) list.push_back({p.time_ms, p.records, p.disk_bytes});
  return nlohmann::json{{"points", list}}.dump();
}

Result<std::deque<StatsPoint>> Decode(std::string_view text) {
  const nlohmann::json in = nlohmann::json::parse(text, nullptr, false);
  if (!in.is_object() || !in.contains("points") || !in["points"].is_array()) {
    return DataLossError("the saved dashboard history is not readable");
  }
  std::deque<StatsPoint> out;
  for (const auto& p : in["points"]) {
    if (!p.is_array() || p.size() != 3 || !p[0].is_number_integer() || !p[1].is_number_unsigned() ||
        !p[2].is_number_unsigned()) {
      return DataLossError("the saved dashboard history is not readable");
    }
    out.push_back({p[0].get<int64_t>(), p[1].get<uint64_t>(), p[2].get<uint64_t>()});
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<StatsHistory>> StatsHistory::Load(storage::Store& store, Clock& clock) {
  std::unique_ptr<StatsHistory> history(new StatsHistory(store, clock));
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kRecordId));
  if (exists) {
    EDS_ASSIGN_OR_RETURN(std::string text,
                         store.Read("", kRecordId, {"system", "stats-history.read", "", ""}));
    EDS_ASSIGN_OR_RETURN(std::deque<StatsPoint> hours, Decode(text));
    MutexLock lock(history->mu_);
    history->hours_ = std::move(hours);
  }
  return history;
}

Status StatsHistory::Record() {
  const int64_t now = UnixMillis(clock_.Now());
  MutexLock lock(mu_);
  if (!minutes_.empty() && now - minutes_.back().time_ms < kMinuteMs) return OkStatus();
  const storage::StoreStats s = store_.Stats();
  const StatsPoint point{now, s.records_estimate, s.disk_bytes};
  minutes_.push_back(point);
  while (minutes_.size() > kMinutePoints) minutes_.pop_front();
  if (!hours_.empty() && now - hours_.back().time_ms < kHourMs) return OkStatus();
  std::deque<StatsPoint> hours = hours_;
  hours.push_back(point);
  while (hours.size() > kHourPoints) hours.pop_front();
  // Kept in memory only once it is durable, so memory and store never disagree.
  EDS_RETURN_IF_ERROR(store_.Write({{"", std::string(kRecordId), Encode(hours)}},
                                   {"system", "stats.sample", "", ""}));
  hours_ = std::move(hours);
  return OkStatus();
}

std::vector<StatsPoint> StatsHistory::Points() const {
  MutexLock lock(mu_);
  std::vector<StatsPoint> out;
  const int64_t first_minute =
      minutes_.empty() ? std::numeric_limits<int64_t>::max() : minutes_.front().time_ms;
  for (const StatsPoint& p : hours_) {
    if (p.time_ms < first_minute) out.push_back(p);
  }
  out.insert(out.end(), minutes_.begin(), minutes_.end());
  return out;
}

}  // namespace eds::webadmin
