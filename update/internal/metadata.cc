#include "update/internal/metadata.h"

#include <fnmatch.h>

#include <ctime>
#include <set>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "update/internal/canonical_json.h"
#include "update/internal/crypto.h"

namespace eds::update::internal {
namespace {

using nlohmann::json;

Status Malformed(std::string_view role, std::string_view field) {
  return InvalidArgumentError(std::string(role) + " metadata: missing or malformed '" +
                              std::string(field) + "'");
}

const json* Field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> GetString(const json& obj, const char* key, std::string_view role) {
  const json* v = Field(obj, key);
  if (v == nullptr || !v->is_string()) return Malformed(role, key);
  return v->get<std::string>();
}

Result<int64_t> GetInt(const json& obj, const char* key, std::string_view role) {
  const json* v = Field(obj, key);
  if (v == nullptr || !v->is_number_integer()) return Malformed(role, key);
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
    return Malformed(role, key);
  }
  return v->get<int64_t>();
}

Result<const json*> GetObject(const json& obj, const char* key, std::string_view role) {
  const json* v = Field(obj, key);
  if (v == nullptr || !v->is_object()) return Malformed(role, key);
  return v;
}

Result<std::vector<std::string>> GetStrings(const json& obj, const char* key,
                                            std::string_view role) {
  const json* v = Field(obj, key);
  if (v == nullptr || !v->is_array()) return Malformed(role, key);
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) return Malformed(role, key);
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<Common> ParseCommon(const json& s, std::string_view expected_type, std::string_view role) {
  Common c;
  EDS_ASSIGN_OR_RETURN(c.type, GetString(s, "_type", role));
  if (c.type != expected_type) {
    return InvalidArgumentError(std::string(role) + " metadata: _type is '" + c.type +
                                "', expected '" + std::string(expected_type) + "'");
  }
  EDS_ASSIGN_OR_RETURN(std::string spec, GetString(s, "spec_version", role));
  if (spec != "1" && spec.rfind("1.", 0) != 0) {
    return InvalidArgumentError(std::string(role) + " metadata: unsupported spec_version " + spec);
  }
  EDS_ASSIGN_OR_RETURN(c.version, GetInt(s, "version", role));
  if (c.version < 1) return Malformed(role, "version");
  EDS_ASSIGN_OR_RETURN(std::string expires, GetString(s, "expires", role));
  auto parsed = ParseExpires(expires);
  if (!parsed.ok()) return Malformed(role, "expires");
  c.expires = *parsed;
  return c;
}

Result<KeyMap> ParseKeys(const json& keys, std::string_view role) {
  if (!keys.is_object()) return Malformed(role, "keys");
  KeyMap out;
  for (const auto& [keyid, k] : keys.items()) {
    Key key;
    EDS_ASSIGN_OR_RETURN(key.keytype, GetString(k, "keytype", role));
    EDS_ASSIGN_OR_RETURN(key.scheme, GetString(k, "scheme", role));
    EDS_ASSIGN_OR_RETURN(const json* keyval, GetObject(k, "keyval", role));
    EDS_ASSIGN_OR_RETURN(std::string pub, GetString(*keyval, "public", role));
    // Keys of other types may appear (another implementation's repository); they just never
    // count towards a threshold here.
    if (key.keytype == "ed25519" && key.scheme == "ed25519") {
      auto raw = HexDecode(pub);
      if (raw && raw->size() == 32) key.public_key = *raw;
    }
    out.emplace(keyid, std::move(key));
  }
  return out;
}

Result<RoleKeys> ParseRoleKeys(const json& r, std::string_view role) {
  RoleKeys rk;
  EDS_ASSIGN_OR_RETURN(rk.keyids, GetStrings(r, "keyids", role));
  EDS_ASSIGN_OR_RETURN(rk.threshold, GetInt(r, "threshold", role));
  if (rk.threshold < 1) return Malformed(role, "threshold");
  return rk;
}

Result<std::map<std::string, std::string>> ParseHashes(const json& obj, std::string_view role) {
  std::map<std::string, std::string> out;
  if (!obj.is_object()) return Malformed(role, "hashes");
  for (const auto& [alg, h] : obj.items()) {
    if (!h.is_string()) return Malformed(role, "hashes");
    out.emplace(alg, h.get<std::string>());
  }
  return out;
}

Result<MetaFile> ParseMetaFile(const json& m, std::string_view role) {
  MetaFile f;
  EDS_ASSIGN_OR_RETURN(f.version, GetInt(m, "version", role));
  if (f.version < 1) return Malformed(role, "meta version");
  if (Field(m, "length") != nullptr) {
    EDS_ASSIGN_OR_RETURN(int64_t length, GetInt(m, "length", role));
    if (length < 0) return Malformed(role, "length");
    f.length = length;
  }
  if (const json* h = Field(m, "hashes")) {
    EDS_ASSIGN_OR_RETURN(f.hashes, ParseHashes(*h, role));
  }
  return f;
}

Result<std::vector<DelegatedRole>> ParseDelegatedRoles(const json& roles, std::string_view role) {
  if (!roles.is_array()) return Malformed(role, "delegations.roles");
  std::vector<DelegatedRole> out;
  std::set<std::string> names;
  for (const auto& r : roles) {
    DelegatedRole d;
    EDS_ASSIGN_OR_RETURN(d.name, GetString(r, "name", role));
    if (!names.insert(d.name).second) {
      return InvalidArgumentError(std::string(role) + " metadata: delegated role '" + d.name +
                                  "' appears twice");
    }
    EDS_ASSIGN_OR_RETURN(d.keys, ParseRoleKeys(r, role));
    if (const json* t = Field(r, "terminating")) {
      if (!t->is_boolean()) return Malformed(role, "terminating");
      d.terminating = t->get<bool>();
    }
    if (Field(r, "paths") != nullptr) {
      EDS_ASSIGN_OR_RETURN(d.paths, GetStrings(r, "paths", role));
    }
    if (Field(r, "path_hash_prefixes") != nullptr) {
      EDS_ASSIGN_OR_RETURN(d.path_hash_prefixes, GetStrings(r, "path_hash_prefixes", role));
    }
    if (d.paths.has_value() == d.path_hash_prefixes.has_value()) {
      return InvalidArgumentError(std::string(role) + " metadata: delegated role '" + d.name +
                                  "' needs exactly one of paths and path_hash_prefixes");
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.emplace_back(
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

Result<Envelope> ParseEnvelope(std::string_view bytes, std::string_view role) {
  EDS_ASSIGN_OR_RETURN(json doc, ParseJson(bytes, std::string(role) + " metadata"));
  Envelope env;
  const json* s = Field(doc, "signed");
  if (s == nullptr || !s->is_object()) return Malformed(role, "signed");
  env.signed_json = *s;
  EDS_ASSIGN_OR_RETURN(env.canonical_signed, CanonicalJson(env.signed_json));
  const json* sigs = Field(doc, "signatures");
  if (sigs == nullptr || !sigs->is_array()) return Malformed(role, "signatures");
  std::set<std::string> seen;
  for (const auto& sig : *sigs) {
    Signature one;
    EDS_ASSIGN_OR_RETURN(one.keyid, GetString(sig, "keyid", role));
    EDS_ASSIGN_OR_RETURN(std::string hex, GetString(sig, "sig", role));
    if (!seen.insert(one.keyid).second) {
      return InvalidArgumentError(std::string(role) + " metadata: two signatures by key " +
                                  one.keyid);
    }
    auto raw = HexDecode(hex);
    if (raw) one.sig = *raw;  // an undecodable signature is simply invalid
    env.signatures.push_back(std::move(one));
  }
  return env;
}

Result<Root> ParseRoot(const Envelope& envelope) {
  const json& s = envelope.signed_json;
  Root root;
  EDS_ASSIGN_OR_RETURN(root.common, ParseCommon(s, "root", "root"));
  const json* cs = Field(s, "consistent_snapshot");
  if (cs != nullptr) {
    if (!cs->is_boolean()) return Malformed("root", "consistent_snapshot");
    root.consistent_snapshot = cs->get<bool>();
  }
  EDS_ASSIGN_OR_RETURN(const json* keys, GetObject(s, "keys", "root"));
  EDS_ASSIGN_OR_RETURN(root.keys, ParseKeys(*keys, "root"));
  EDS_ASSIGN_OR_RETURN(const json* roles, GetObject(s, "roles", "root"));
  for (const char* name : {"root", "timestamp", "snapshot", "targets"}) {
    EDS_ASSIGN_OR_RETURN(const json* r, GetObject(*roles, name, "root"));
    EDS_ASSIGN_OR_RETURN(RoleKeys rk, ParseRoleKeys(*r, "root"));
    root.roles.emplace(name, std::move(rk));
  }
  return root;
}

Result<Timestamp> ParseTimestamp(const Envelope& envelope) {
  const json& s = envelope.signed_json;
  Timestamp ts;
  EDS_ASSIGN_OR_RETURN(ts.common, ParseCommon(s, "timestamp", "timestamp"));
  EDS_ASSIGN_OR_RETURN(const json* meta, GetObject(s, "meta", "timestamp"));
  EDS_ASSIGN_OR_RETURN(const json* snap, GetObject(*meta, "snapshot.json", "timestamp"));
  EDS_ASSIGN_OR_RETURN(ts.snapshot, ParseMetaFile(*snap, "timestamp"));
  return ts;
}

Result<Snapshot> ParseSnapshot(const Envelope& envelope) {
  const json& s = envelope.signed_json;
  Snapshot snap;
  EDS_ASSIGN_OR_RETURN(snap.common, ParseCommon(s, "snapshot", "snapshot"));
  EDS_ASSIGN_OR_RETURN(const json* meta, GetObject(s, "meta", "snapshot"));
  for (const auto& [name, m] : meta->items()) {
    EDS_ASSIGN_OR_RETURN(MetaFile f, ParseMetaFile(m, "snapshot"));
    snap.meta.emplace(name, std::move(f));
  }
  return snap;
}

Result<Targets> ParseTargets(const Envelope& envelope, std::string_view role) {
  const json& s = envelope.signed_json;
  Targets t;
  EDS_ASSIGN_OR_RETURN(t.common, ParseCommon(s, "targets", role));
  EDS_ASSIGN_OR_RETURN(const json* targets, GetObject(s, "targets", role));
  for (const auto& [path, info] : targets->items()) {
    TargetFile f;
    EDS_ASSIGN_OR_RETURN(f.length, GetInt(info, "length", role));
    if (f.length < 0) return Malformed(role, "length");
    EDS_ASSIGN_OR_RETURN(const json* hashes, GetObject(info, "hashes", role));
    EDS_ASSIGN_OR_RETURN(f.hashes, ParseHashes(*hashes, role));
    if (const json* custom = Field(info, "custom")) f.custom = *custom;
    t.targets.emplace(path, std::move(f));
  }
  if (const json* d = Field(s, "delegations")) {
    EDS_ASSIGN_OR_RETURN(const json* keys, GetObject(*d, "keys", role));
    EDS_ASSIGN_OR_RETURN(t.delegation_keys, ParseKeys(*keys, role));
    const json* roles = Field(*d, "roles");
    if (roles == nullptr) return Malformed(role, "delegations.roles");
    EDS_ASSIGN_OR_RETURN(t.delegations, ParseDelegatedRoles(*roles, role));
  }
  return t;
}

Status VerifyThreshold(const Envelope& envelope, const KeyMap& keys, const RoleKeys& role,
                       std::string_view role_name) {
  std::set<std::string> allowed(role.keyids.begin(), role.keyids.end());
  int64_t valid = 0;
  for (const auto& sig : envelope.signatures) {
    if (allowed.count(sig.keyid) == 0) continue;
    auto key = keys.find(sig.keyid);
    if (key == keys.end() || key->second.public_key.empty()) continue;
    if (Ed25519Verify(key->second.public_key, envelope.canonical_signed, sig.sig)) ++valid;
  }
  if (valid < role.threshold) {
    return UnauthenticatedError("signature threshold not met for " + std::string(role_name) + ": " +
                                std::to_string(valid) + " valid of " +
                                std::to_string(role.threshold) + " required");
  }
  return OkStatus();
}

Status CheckNotExpired(const Common& common, int64_t now, std::string_view role_name) {
  if (common.expires <= now) {
    return DeadlineExceededError(std::string(role_name) + " metadata version " +
                                 std::to_string(common.version) + " expired at " +
                                 FormatExpires(common.expires) + " (freeze attack?)");
  }
  return OkStatus();
}

Status CheckLengthAndHashes(std::string_view data, std::optional<int64_t> length,
                            const std::map<std::string, std::string>& hashes,
                            std::string_view what) {
  if (length) {
    if (data.size() > static_cast<uint64_t>(*length)) {
      return ResourceExhaustedError(std::string(what) + " is longer than the " +
                                    std::to_string(*length) + " bytes its metadata allows");
    }
    if (data.size() != static_cast<uint64_t>(*length)) {
      return DataLossError(std::string(what) + " length " + std::to_string(data.size()) +
                           " does not match the expected " + std::to_string(*length));
    }
  }
  for (const auto& [alg, expected] : hashes) {
    std::string actual;
    if (alg == "sha256") {
      actual = Sha256Hex(data);
    } else if (alg == "sha512") {
      actual = Sha512Hex(data);
    } else {
      return DataLossError(std::string(what) + ": unsupported hash algorithm " + alg);
    }
    std::string lower = expected;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (actual != lower) {
      return DataLossError(std::string(what) + ": " + alg + " hash mismatch");
    }
  }
  return OkStatus();
}

bool DelegationCovers(const DelegatedRole& role, std::string_view target_path) {
  if (role.path_hash_prefixes) {
    std::string digest = Sha256Hex(target_path);
    for (const auto& prefix : *role.path_hash_prefixes) {
      if (digest.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
  std::vector<std::string> target_parts = SplitPath(target_path);
  for (const auto& pattern : *role.paths) {
    std::vector<std::string> pattern_parts = SplitPath(pattern);
    if (pattern_parts.size() != target_parts.size()) continue;
    bool all = true;
    for (size_t i = 0; i < pattern_parts.size() && all; ++i) {
      all = ::fnmatch(pattern_parts[i].c_str(), target_parts[i].c_str(), 0) == 0;
    }
    if (all) return true;
  }
  return false;
}

Result<int64_t> ParseExpires(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return InvalidArgumentError("expiry is not YYYY-MM-DDTHH:MM:SSZ");
  }
  auto num = [&](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, hour) ||
      !num(14, 2, minute) || !num(17, 2, second)) {
    return InvalidArgumentError("expiry is not YYYY-MM-DDTHH:MM:SSZ");
  }
  if (text.size() > 20) {
    if (text[19] != '.') return InvalidArgumentError("expiry is not YYYY-MM-DDTHH:MM:SSZ");
    for (size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return InvalidArgumentError("expiry is not YYYY-MM-DDTHH:MM:SSZ");
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return InvalidArgumentError("expiry is out of range");
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(::timegm(&tm));
}

std::string FormatExpires(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace eds::update::internal
