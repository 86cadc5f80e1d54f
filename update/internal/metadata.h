// TUF 1.0 metadata as parsed and checked by the client: the signed envelope, the four top-level
// roles, delegations, and the checks each step of the workflow applies (signature threshold,
// expiry, length and hashes, path patterns). Parsing never throws; malformed metadata is
// kInvalidArgument naming the role and the field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace eds::update::internal {

struct Key {
  std::string keytype;
  std::string scheme;
  std::string public_key;  // raw bytes for ed25519, empty for a key type we cannot verify
};
using KeyMap = std::map<std::string, Key>;  // by key id

struct RoleKeys {
  std::vector<std::string> keyids;
  int64_t threshold = 1;
};

struct Signature {
  std::string keyid;
  std::string sig;  // raw bytes
};

// A metadata file: what is signed (parsed and canonical) and the signatures over it.
struct Envelope {
  nlohmann::json signed_json;
  std::string canonical_signed;
  std::vector<Signature> signatures;
};

struct Common {
  std::string type;
  int64_t version = 0;
  int64_t expires = 0;  // seconds since the epoch
};

struct Root {
  Common common;
  bool consistent_snapshot = false;
  KeyMap keys;
  std::map<std::string, RoleKeys> roles;  // root, timestamp, snapshot, targets
};

struct MetaFile {
  int64_t version = 0;
  std::optional<int64_t> length;
  std::map<std::string, std::string> hashes;  // algorithm -> lower-case hex
};

struct Timestamp {
  Common common;
  MetaFile snapshot;  // meta["snapshot.json"]
};

struct Snapshot {
  Common common;
  std::map<std::string, MetaFile> meta;  // "targets.json", "<delegated>.json"
};

struct TargetFile {
  int64_t length = 0;
  std::map<std::string, std::string> hashes;
  nlohmann::json custom;  // null when absent
};

struct DelegatedRole {
  std::string name;
  RoleKeys keys;
  bool terminating = false;
  std::optional<std::vector<std::string>> paths;
  std::optional<std::vector<std::string>> path_hash_prefixes;
};

struct Targets {
  Common common;
  std::map<std::string, TargetFile> targets;
  KeyMap delegation_keys;
  std::vector<DelegatedRole> delegations;  // in priority order
};

Result<Envelope> ParseEnvelope(std::string_view bytes, std::string_view role);
Result<Root> ParseRoot(const Envelope& envelope);
Result<Timestamp> ParseTimestamp(const Envelope& envelope);
Result<Snapshot> ParseSnapshot(const Envelope& envelope);
// `role` is the role name the file was fetched for (delegated roles carry _type "targets").
Result<Targets> ParseTargets(const Envelope& envelope, std::string_view role);

// kUnauthenticated unless at least `role.threshold` distinct keys of `role.keyids` signed.
Status VerifyThreshold(const Envelope& envelope, const KeyMap& keys, const RoleKeys& role,
                       std::string_view role_name);

// kDeadlineExceeded ("expired") when `expires` is not after `now`.
Status CheckNotExpired(const Common& common, int64_t now, std::string_view role_name);

// kResourceExhausted when longer than `length`, kDataLoss on a shorter file or a hash mismatch.
Status CheckLengthAndHashes(std::string_view data, std::optional<int64_t> length,
                            const std::map<std::string, std::string>& hashes,
                            std::string_view what);

// Whether a delegation covers `target_path` (shell-style patterns per path segment, or a prefix
// of the SHA-256 of the path).
bool DelegationCovers(const DelegatedRole& role, std::string_view target_path);

// "2030-01-01T00:00:00Z" -> seconds since the epoch (fractional seconds are accepted, ignored).
Result<int64_t> ParseExpires(std::string_view text);
std::string FormatExpires(int64_t seconds);

}  // namespace eds::update::internal
