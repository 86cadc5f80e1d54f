// The upstream delivery's state as JSON, the same for `edsctl sync status` and the web admin.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "sync/outbox.h"
#include "sync/sync_service.h"

namespace eds::sync {

// The delivery state, the queue's head (`pending`) and, when the schedule runs (`service` not
// null), whether an upstream is configured and when the next run is due.
nlohmann::json DeliveryJson(const DeliveryState& state, const std::vector<QueuedRelease>& pending,
                            const SyncService* service);

}  // namespace eds::sync
