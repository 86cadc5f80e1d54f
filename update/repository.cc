#include "update/repository.h"

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "update/bundle.h"
#include "update/file_util.h"
#include "update/internal/canonical_json.h"
#include "update/internal/crypto.h"
#include "update/internal/metadata.h"

namespace eds::update {
namespace {

using nlohmann::json;

constexpr const char* kSpecVersion = "1.0.31";

json PublicKeyJson(const SigningKey& key) {
  return json{
      {"keytype", "ed25519"}, {"scheme", "ed25519"}, {"keyval", json{{"public", key.public_hex}}}};
}

SigningKey FromPair(const internal::Ed25519KeyPair& pair) {
  SigningKey key;
  key.public_hex = HexEncode(pair.public_key);
  key.seed = pair.seed;
  key.keyid = internal::Sha256Hex(*internal::CanonicalJson(PublicKeyJson(key)));
  return key;
}

json RoleJson(const std::vector<SigningKey>& keys) {
  json ids = json::array();
  for (const auto& k : keys) ids.push_back(k.keyid);
  return json{{"keyids", ids}, {"threshold", keys.size()}};
}

json Common(const char* type, int64_t version, int64_t expires) {
  return json{{"_type", type},
              {"spec_version", kSpecVersion},
              {"version", version},
              {"expires", internal::FormatExpires(expires)}};
}

Status RequireKeys(const std::vector<SigningKey>& keys, const char* role) {
  if (keys.empty()) return InvalidArgumentError(std::string("no ") + role + " key given");
  return OkStatus();
}

Result<json> ReadSigned(const std::filesystem::path& file) {
  EDS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(file));
  EDS_ASSIGN_OR_RETURN(json doc, internal::ParseJson(bytes, file.string()));
  if (!doc.is_object() || !doc.contains("signed") || !doc["signed"].is_object()) {
    return InvalidArgumentError(file.string() + " is not TUF metadata");
  }
  return doc["signed"];
}

Result<std::string> Sign(const json& signed_json, const std::vector<SigningKey>& keys) {
  EDS_ASSIGN_OR_RETURN(std::string text, internal::CanonicalJson(signed_json));
  return SignMetadata(text, keys);
}

json RootJson(const RepositoryKeys& keys, int64_t version, int64_t expires) {
  json root = Common("root", version, expires);
  root["consistent_snapshot"] = true;
  json all_keys = json::object();
  for (const auto* role : {&keys.root, &keys.targets, &keys.snapshot, &keys.timestamp}) {
    for (const auto& k : *role) all_keys[k.keyid] = PublicKeyJson(k);
  }
  root["keys"] = all_keys;
  root["roles"] = json{{"root", RoleJson(keys.root)},
                       {"targets", RoleJson(keys.targets)},
                       {"snapshot", RoleJson(keys.snapshot)},
                       {"timestamp", RoleJson(keys.timestamp)}};
  return root;
}

Status WriteRoot(const std::filesystem::path& meta_dir, const json& root,
                 const std::vector<SigningKey>& signers) {
  EDS_ASSIGN_OR_RETURN(std::string root_bytes, Sign(root, signers));
  const int64_t version = root["version"].get<int64_t>();
  EDS_RETURN_IF_ERROR(
      WriteFileAtomic(meta_dir / (std::to_string(version) + ".root.json"), root_bytes));
  return WriteFileAtomic(meta_dir / "root.json", root_bytes);
}

// Publishes targets, snapshot and timestamp (new versions) over `targets_signed`.
Status Publish(const std::filesystem::path& meta_dir, json targets_signed,
               const RepositoryKeys& keys, int64_t expires) {
  const int64_t targets_version = targets_signed["version"].get<int64_t>();
  EDS_ASSIGN_OR_RETURN(std::string targets, Sign(targets_signed, keys.targets));
  EDS_RETURN_IF_ERROR(
      WriteFileAtomic(meta_dir / (std::to_string(targets_version) + ".targets.json"), targets));
  EDS_RETURN_IF_ERROR(WriteFileAtomic(meta_dir / "targets.json", targets));

  int64_t snapshot_version = 1;
  if (auto old = ReadSigned(meta_dir / "snapshot.json"); old.ok()) {
    snapshot_version = (*old)["version"].get<int64_t>() + 1;
  }
  json snapshot = Common("snapshot", snapshot_version, expires);
  snapshot["meta"] = json{{"targets.json", json{{"version", targets_version}}}};
  EDS_ASSIGN_OR_RETURN(std::string snapshot_bytes, Sign(snapshot, keys.snapshot));
  EDS_RETURN_IF_ERROR(WriteFileAtomic(
      meta_dir / (std::to_string(snapshot_version) + ".snapshot.json"), snapshot_bytes));
  EDS_RETURN_IF_ERROR(WriteFileAtomic(meta_dir / "snapshot.json", snapshot_bytes));

  int64_t timestamp_version = 1;
  if (auto old = ReadSigned(meta_dir / "timestamp.json"); old.ok()) {
    timestamp_version = (*old)["version"].get<int64_t>() + 1;
  }
  json timestamp = Common("timestamp", timestamp_version, expires);
  timestamp["meta"] = json{
      {"snapshot.json", json{{"version", snapshot_version},
                             {"length", snapshot_bytes.size()},
                             {"hashes", json{{"sha256", internal::Sha256Hex(snapshot_bytes)}}}}}};
  EDS_ASSIGN_OR_RETURN(std::string timestamp_bytes, Sign(timestamp, keys.timestamp));
  return WriteFileAtomic(meta_dir / "timestamp.json", timestamp_bytes);
}

}  // namespace

SigningKey GenerateSigningKey() { return FromPair(internal::Ed25519Generate()); }

Status SaveSigningKey(const std::filesystem::path& path, const SigningKey& key) {
  json doc = PublicKeyJson(key);
  doc["keyval"]["private"] = HexEncode(key.seed);
  EDS_RETURN_IF_ERROR(WriteFileAtomic(path, doc.dump(2) + "\n"));
  if (::chmod(path.c_str(), 0600) != 0) {
    return UnavailableError("cannot restrict permissions of " + path.string());
  }
  return OkStatus();
}

Result<SigningKey> LoadSigningKey(const std::filesystem::path& path) {
  EDS_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  EDS_ASSIGN_OR_RETURN(json doc, internal::ParseJson(bytes, path.string()));
  const json* priv = nullptr;
  if (doc.is_object() && doc.contains("keyval") && doc["keyval"].is_object() &&
      doc["keyval"].contains("private") && doc["keyval"]["private"].is_string() &&
      doc.value("keytype", "") == "ed25519") {
    priv = &doc["keyval"]["private"];
  }
  if (priv == nullptr) return InvalidArgumentError(path.string() + " is not an Ed25519 key file");
  auto seed = HexDecode(priv->get<std::string>());
  if (!seed) return InvalidArgumentError(path.string() + ": private key is not hex");
  EDS_ASSIGN_OR_RETURN(internal::Ed25519KeyPair pair, internal::Ed25519FromSeed(*seed));
  return FromPair(pair);
}

Result<std::string> SignMetadata(std::string_view signed_json,
                                 const std::vector<SigningKey>& keys) {
  EDS_ASSIGN_OR_RETURN(json parsed, internal::ParseJson(signed_json, "signed metadata"));
  EDS_ASSIGN_OR_RETURN(std::string canonical, internal::CanonicalJson(parsed));
  json sigs = json::array();
  for (const auto& key : keys) {
    sigs.push_back(
        json{{"keyid", key.keyid}, {"sig", HexEncode(internal::Ed25519Sign(key.seed, canonical))}});
  }
  return internal::CanonicalJson(json{{"signatures", sigs}, {"signed", parsed}});
}

Status InitRepository(const std::filesystem::path& dir, const RepositoryKeys& keys,
                      int64_t expires) {
  EDS_RETURN_IF_ERROR(RequireKeys(keys.root, "root"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.targets, "targets"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.snapshot, "snapshot"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.timestamp, "timestamp"));
  const std::filesystem::path meta_dir = dir / "metadata";
  std::error_code ec;
  if (std::filesystem::exists(meta_dir / "root.json", ec)) {
    return AlreadyExistsError(dir.string() + " already holds a repository");
  }
  std::filesystem::create_directories(meta_dir, ec);
  std::filesystem::create_directories(dir / "targets", ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());

  EDS_RETURN_IF_ERROR(WriteRoot(meta_dir, RootJson(keys, 1, expires), keys.root));

  json targets = Common("targets", 1, expires);
  targets["targets"] = json::object();
  return Publish(meta_dir, targets, keys, expires);
}

Status AddTarget(const std::filesystem::path& dir, const RepositoryKeys& keys,
                 const std::string& name, const std::filesystem::path& file,
                 const std::string& custom_json, int64_t expires) {
  EDS_RETURN_IF_ERROR(RequireKeys(keys.targets, "targets"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.snapshot, "snapshot"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.timestamp, "timestamp"));
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
    return InvalidArgumentError("bad target name: " + name);
  }
  const std::filesystem::path meta_dir = dir / "metadata";
  EDS_ASSIGN_OR_RETURN(json targets, ReadSigned(meta_dir / "targets.json"));
  EDS_ASSIGN_OR_RETURN(std::string data, ReadFile(file));
  const std::string sha256 = internal::Sha256Hex(data);
  json info = json{{"length", data.size()}, {"hashes", json{{"sha256", sha256}}}};
  if (!custom_json.empty()) {
    EDS_ASSIGN_OR_RETURN(json custom, internal::ParseJson(custom_json, "custom"));
    if (!custom.is_object()) return InvalidArgumentError("custom must be a JSON object");
    info["custom"] = custom;
  }
  const size_t slash = name.rfind('/');
  const std::string sub = slash == std::string::npos ? "" : name.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  std::error_code ec;
  std::filesystem::create_directories(dir / "targets" / sub, ec);
  if (ec) return UnavailableError("cannot create target directory: " + ec.message());
  EDS_RETURN_IF_ERROR(WriteFileAtomic(dir / "targets" / (sub + sha256 + "." + base), data));

  targets["targets"][name] = info;
  targets["version"] = targets["version"].get<int64_t>() + 1;
  targets["expires"] = internal::FormatExpires(expires);
  return Publish(meta_dir, targets, keys, expires);
}

Status RotateKeys(const std::filesystem::path& dir, const std::vector<SigningKey>& old_root,
                  const RepositoryKeys& keys, int64_t expires) {
  EDS_RETURN_IF_ERROR(RequireKeys(old_root, "old root"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.root, "root"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.targets, "targets"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.snapshot, "snapshot"));
  EDS_RETURN_IF_ERROR(RequireKeys(keys.timestamp, "timestamp"));
  const std::filesystem::path meta_dir = dir / "metadata";
  EDS_ASSIGN_OR_RETURN(json current, ReadSigned(meta_dir / "root.json"));
  // Clients trust the new root only when the keys they already trust sign it too.
  std::vector<SigningKey> signers = old_root;
  for (const auto& k : keys.root) {
    bool present = false;
    for (const auto& o : old_root) present = present || o.keyid == k.keyid;
    if (!present) signers.push_back(k);
  }
  const int64_t version = current["version"].get<int64_t>() + 1;
  EDS_RETURN_IF_ERROR(WriteRoot(meta_dir, RootJson(keys, version, expires), signers));
  // Everything below root is signed again with the (possibly new) keys.
  EDS_ASSIGN_OR_RETURN(json targets, ReadSigned(meta_dir / "targets.json"));
  targets["version"] = targets["version"].get<int64_t>() + 1;
  targets["expires"] = internal::FormatExpires(expires);
  return Publish(meta_dir, targets, keys, expires);
}

Status MakeRepositoryBundle(const std::filesystem::path& dir, const std::filesystem::path& out) {
  std::vector<std::pair<std::string, std::filesystem::path>> entries;
  std::error_code ec;
  for (const char* sub : {"metadata", "targets"}) {
    for (auto it = std::filesystem::recursive_directory_iterator(dir / sub, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string rel = std::filesystem::relative(it->path(), dir).generic_string();
      if (rel.size() > 4 && rel.compare(rel.size() - 4, 4, ".tmp") == 0) continue;
      entries.emplace_back(rel, it->path());
    }
    if (ec) return UnavailableError("cannot list " + (dir / sub).string() + ": " + ec.message());
  }
  std::sort(entries.begin(), entries.end());
  return WriteBundle(out, entries);
}

}  // namespace eds::update
