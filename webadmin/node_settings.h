// NodeSettings: what the hospital's IT staff set at first boot and in the System page: the
// hospital's name, its time zone, the upstream URL with the CA that signs it, and the delivery
// schedule. Kept as one encrypted store record bound to no patient, so the daemon and edsctl can
// read them (LoadNodeSettings). Saving validates first and is audited.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

#include "common/result.h"
#include "storage/store.h"

namespace eds::webadmin {

struct NodeSettings {
  std::string hospital_name;               // 1..200 characters
  std::string time_zone = "Europe/Paris";  // an IANA zone known to the system
  std::string upstream_url;                // https://... or empty (not connected yet)
  std::string upstream_ca_pem;             // PEM certificates, or empty (system CAs)
  std::string schedule = "0 6 * * *";      // cron, as sync.schedule
  std::string metrics_token_hash;          // hex BLAKE2b of the /metrics bearer token, or empty
};

// kInvalidArgument naming the first bad field.
Status ValidateNodeSettings(const NodeSettings& s);
// The settings kept in the store, or nullopt before first-boot setup.
Result<std::optional<NodeSettings>> LoadNodeSettings(storage::Store& store);
// Validates, then writes with the audit entry {actor, "settings.save"}.
Status SaveNodeSettings(storage::Store& store, const NodeSettings& s, const std::string& actor);

nlohmann::json NodeSettingsToJson(const NodeSettings& s);  // without the token hash
// Fields present in `j` replace those of `base`; kInvalidArgument for a non-string field.
Result<NodeSettings> NodeSettingsFromJson(const nlohmann::json& j, NodeSettings base);

}  // namespace eds::webadmin
