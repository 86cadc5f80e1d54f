// Sync commands of the control socket (docs/formats/control.md): identity (the node's public key
// and fingerprint, for enrolment), sync-status (the outbox and the last delivery or failure) and
// sync-now (one delivery run, answered when it ends).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sync/identity.h"
#include "sync/outbox.h"
#include "sync/sync_service.h"

namespace eds::daemon {

struct SyncContext {
  const sync::NodeIdentity* identity = nullptr;  // must outlive the call
  sync::Outbox* outbox = nullptr;                // must outlive the call
  sync::SyncService* service = nullptr;          // null when sync.enabled is false
};

// nullopt when `cmd` is not a sync command.
std::optional<nlohmann::json> HandleSyncCommand(SyncContext& ctx, const std::string& cmd,
                                                const nlohmann::json& request);

}  // namespace eds::daemon
