// The commands edsctl sends over the control socket (docs/formats/control.md): ping, status,
// backup, verify, rotate-key, tokens, objections, erase, import-status (the streaming import is
// in control_import.h). Each one that acts is audited with the caller's uid.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/control_release.h"
#include "daemon/control_server.h"
#include "daemon/control_sync.h"
#include "daemon/control_update.h"
#include "ingest/bulk_ingest.h"
#include "ingest/fhir_tokens.h"
#include "ingest/objection_register.h"
#include "storage/store.h"

namespace eds::daemon {

struct ControlContext {
  storage::Store& store;         // must outlive the call
  const StorageConfig& storage;  // must outlive the call
  std::chrono::steady_clock::time_point started;
  ingest::FhirTokens* tokens = nullptr;                  // must outlive the call
  const ingest::Pseudonymizer* pseudonymizer = nullptr;  // must outlive the call
  ingest::ObjectionRegister* objections = nullptr;       // must outlive the call
  ingest::BulkIngest* bulk = nullptr;                    // must outlive the call
  ReleaseContext releases;
  SyncContext sync;
  UpdateContext update;
};

// Always answers {"ok": true, ...} or {"ok": false, "error": "..."}.
nlohmann::json HandleControlRequest(ControlContext& ctx, const nlohmann::json& request,
                                    const PeerCredentials& peer);

}  // namespace eds::daemon
