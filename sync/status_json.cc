#include "sync/status_json.h"

namespace eds::sync {

nlohmann::json DeliveryJson(const DeliveryState& s, const std::vector<QueuedRelease>& pending,
                            const SyncService* service) {
  nlohmann::json queue = nlohmann::json::array();
  for (const auto& q : pending) {
    queue.push_back(
        {{"sequence", q.seq}, {"release", q.release_id}, {"period", q.period}, {"bytes", q.bytes}});
  }
  return {{"enabled", service != nullptr && service->Configured()},
          {"queued", s.queued},
          {"queue", std::move(queue)},
          {"consecutive_failures", s.consecutive_failures},
          {"last_attempt_at", s.last_attempt_at},
          {"last_error", s.last_error},
          {"last_error_at", s.last_error_at},
          {"last_delivery_at", s.last_delivery_at},
          {"last_delivered", s.last_delivered},
          {"delivered_total", s.delivered_total},
          {"next_run_at", service != nullptr ? service->NextRunAt() : ""}};
}

}  // namespace eds::sync
