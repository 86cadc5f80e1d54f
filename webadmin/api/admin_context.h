// AdminContext: the running node's objects the admin API acts on. The daemon builds it; every
// pointer must outlive the Api it is given to. `sync` is null when upstream sync is off.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aggregate/measure_pack.h"
#include "aggregate/release.h"
#include "ingest/fhir_tokens.h"
#include "ingest/objection_register.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "sync/outbox.h"
#include "sync/sync_service.h"
#include "webadmin/node_settings.h"

namespace eds::webadmin {

struct AdminContext {
  storage::Store* store = nullptr;
  ingest::FhirTokens* tokens = nullptr;
  ingest::ObjectionRegister* objections = nullptr;
  const ingest::Pseudonymizer* pseudonymizer = nullptr;
  aggregate::ReleaseBook* releases = nullptr;
  // The enabled packs now (a signed update may replace them while the node runs).
  std::function<std::shared_ptr<const std::vector<aggregate::MeasurePack>>()> packs;
  aggregate::ReleaseOptions release_options;
  const sync::NodeIdentity* identity = nullptr;
  sync::Outbox* outbox = nullptr;
  sync::SyncService* sync = nullptr;  // may be null
  // The update module: its state (trusted metadata, slots, last result) and the verification and
  // installation of an uploaded bundle (a file written under update_dir). Null when absent.
  std::function<nlohmann::json()> update_status;
  std::function<nlohmann::json(const std::string& bundle_path)> apply_update;
  std::string update_dir;
  // Applies saved settings to the running node (the upstream sync); an error refuses the save.
  std::function<Status(const NodeSettings&)> settings_changed;
  std::string version;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace eds::webadmin
