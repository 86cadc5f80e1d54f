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
#include "common/result.h"
#include "ingest/fhir_tokens.h"
#include "ingest/hl7_ingest.h"
#include "ingest/ingest_errors.h"
#include "ingest/mllp/listener.h"
#include "ingest/objection_register.h"
#include "ingest/pseudonymizer.h"
#include "storage/audit_log.h"
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
  // The MLLP listener, the options it started with and the HL7 sink behind it, for the feeds
  // page; both pointers null when MLLP is off.
  const ingest::MllpListener* mllp = nullptr;
  ingest::MllpListenerOptions mllp_options;
  const ingest::Hl7Ingest* hl7 = nullptr;
  // The feeds' last refusals (null = none kept).
  const ingest::IngestErrorLog* ingest_errors = nullptr;
  // The admin server's certificate and key files: an uploaded pair replaces them (applied at the
  // next start). Empty = replacement unavailable.
  std::string admin_tls_cert;
  std::string admin_tls_key;
  // What `edsctl rotate-key` does, without a new key file; returns the operator's note. The
  // daemon supplies it so that webadmin does not depend on it. Null = unavailable.
  std::function<Result<std::string>(const storage::AuditEvent&)> rotate_master_key;
};

}  // namespace eds::webadmin
