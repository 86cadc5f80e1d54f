// Update and self-test commands of the control socket (docs/formats/control.md): update-apply (an
// offline bundle), update-poll (the online repository now), update-status (trusted metadata
// versions, firmware slots, the last result) and self-test (what a new firmware's health check
// runs: a durable store write read back, and a signature made and verified with the node key).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/mutex.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "update/metadata_store.h"
#include "update/slot_installer.h"
#include "update/updater.h"

namespace eds::daemon {

// The last update attempt, for update-status and the admin pages.
struct UpdateLog {
  Mutex run_mu;  // one update at a time (the poller and edsctl may ask together)
  mutable Mutex mu;
  std::string at EDS_GUARDED_BY(mu);
  std::string source EDS_GUARDED_BY(mu);  // "bundle FILE" or "poll"
  std::string result EDS_GUARDED_BY(mu);  // what was installed, or the error
};

struct UpdateContext {
  update::Updater* updater = nullptr;         // must outlive the call
  update::SlotInstaller* slots = nullptr;     // must outlive the call
  update::MetadataStore* metadata = nullptr;  // must outlive the call
  UpdateLog* log = nullptr;                   // must outlive the call
  storage::Store* store = nullptr;            // must outlive the call
  const sync::NodeIdentity* identity = nullptr;
  std::function<void()> packs_changed;  // reloads the packs after one was activated
};

// Applies or polls and records the outcome in ctx.log; the JSON answer of the command.
nlohmann::json RunUpdate(UpdateContext& ctx, const std::string& source,
                         const std::function<Result<update::UpdateReport>()>& run);

// What update-status answers: trusted metadata versions, firmware slots, the last result.
nlohmann::json UpdateStatusJson(UpdateContext& ctx);

// nullopt when `cmd` is not one of these commands.
std::optional<nlohmann::json> HandleUpdateCommand(UpdateContext& ctx, const std::string& cmd,
                                                  const nlohmann::json& request,
                                                  const std::string& actor);

}  // namespace eds::daemon
