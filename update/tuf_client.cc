#include "update/tuf_client.h"

#include <chrono>
#include <optional>
#include <set>

#include "common/status_macros.h"
#include "update/file_util.h"
#include "update/internal/canonical_json.h"
#include "update/internal/metadata.h"

namespace eds::update {

using internal::Envelope;
using internal::MetaFile;

struct TufClient::State {
  int64_t now = 0;  // the reference time of the current Refresh
  std::optional<internal::Root> root;
  std::optional<internal::Timestamp> timestamp;
  std::optional<internal::Snapshot> snapshot;
  std::map<std::string, internal::Targets> targets;  // "targets" and delegated roles
};

namespace {

std::string WithSlash(std::string url) {
  if (!url.empty() && url.back() != '/') url.push_back('/');
  return url;
}

Status Rollback(std::string_view what, int64_t got, int64_t trusted) {
  return FailedPreconditionError("rollback attack: " + std::string(what) + " version " +
                                 std::to_string(got) + " is lower than the trusted " +
                                 std::to_string(trusted));
}

Status VersionMismatch(std::string_view role, int64_t got, int64_t expected, std::string_view by) {
  return InvalidArgumentError(std::string(role) + " version " + std::to_string(got) +
                              " is not the version " + std::to_string(expected) + " " +
                              std::string(by) + " names (mix-and-match?)");
}

std::set<std::string> KeySet(const internal::Root& root, const std::string& role) {
  const auto& ids = root.roles.at(role).keyids;
  return std::set<std::string>(ids.begin(), ids.end());
}

// A stored file of `role`, if it still verifies under the current keys; anything else means
// there is no trusted previous version.
template <typename T, typename ParseFn>
std::optional<T> LoadStored(MetadataStore& store, const std::string& role,
                            const internal::KeyMap& keys, const internal::RoleKeys& role_keys,
                            ParseFn parse) {
  auto bytes = store.Get(role);
  if (!bytes.ok()) return std::nullopt;
  auto env = internal::ParseEnvelope(*bytes, role);
  if (!env.ok() || !internal::VerifyThreshold(*env, keys, role_keys, role).ok()) {
    return std::nullopt;
  }
  auto parsed = parse(*env);
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

}  // namespace

TufClient::TufClient(MetadataStore& store, Fetcher& fetcher, const Clock& clock,
                     TufClientOptions options)
    : store_(store),
      fetcher_(fetcher),
      clock_(clock),
      options_(std::move(options)),
      state_(std::make_unique<State>()) {
  options_.metadata_base_url = WithSlash(options_.metadata_base_url);
  options_.targets_base_url = WithSlash(options_.targets_base_url);
}

TufClient::~TufClient() = default;

Status TufClient::InstallTrustedRoot(MetadataStore& store, std::string_view root_bytes) {
  EDS_ASSIGN_OR_RETURN(Envelope env, internal::ParseEnvelope(root_bytes, "root"));
  EDS_ASSIGN_OR_RETURN(internal::Root root, internal::ParseRoot(env));
  EDS_RETURN_IF_ERROR(internal::VerifyThreshold(env, root.keys, root.roles.at("root"), "root"));
  return store.Put("root", root_bytes);
}

std::string TufClient::MetadataUrl(std::string_view role, int64_t version) const {
  std::string name = EncodeFileName(role) + ".json";
  if (version > 0) name = std::to_string(version) + "." + name;
  return options_.metadata_base_url + name;
}

Status TufClient::Refresh() {
  *state_ = State{};
  state_->now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  EDS_RETURN_IF_ERROR(UpdateRoot());
  EDS_RETURN_IF_ERROR(UpdateTimestamp());
  EDS_RETURN_IF_ERROR(UpdateSnapshot());
  return LoadTargets("targets", "root");
}

Status TufClient::UpdateRoot() {
  auto stored = store_.Get("root");
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kNotFound) {
      return FailedPreconditionError("no trusted root installed");
    }
    return stored.status();
  }
  EDS_ASSIGN_OR_RETURN(Envelope env, internal::ParseEnvelope(*stored, "root"));
  EDS_ASSIGN_OR_RETURN(internal::Root root, internal::ParseRoot(env));
  EDS_RETURN_IF_ERROR(
      internal::VerifyThreshold(env, root.keys, root.roles.at("root"), "trusted root"));
  const std::set<std::string> timestamp_keys = KeySet(root, "timestamp");
  const std::set<std::string> snapshot_keys = KeySet(root, "snapshot");

  for (int i = 0; i < options_.max_root_rotations; ++i) {
    const int64_t next = root.common.version + 1;
    auto bytes = fetcher_.Fetch(MetadataUrl("root", next), options_.max_root_length);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound) break;
      return bytes.status().WithContext("root version " + std::to_string(next));
    }
    EDS_ASSIGN_OR_RETURN(Envelope next_env, internal::ParseEnvelope(*bytes, "root"));
    // The new root must be signed by the keys we trust now and by its own keys.
    EDS_RETURN_IF_ERROR(
        internal::VerifyThreshold(next_env, root.keys, root.roles.at("root"),
                                  "root " + std::to_string(next) + " by the previous root's keys"));
    EDS_ASSIGN_OR_RETURN(internal::Root next_root, internal::ParseRoot(next_env));
    EDS_RETURN_IF_ERROR(
        internal::VerifyThreshold(next_env, next_root.keys, next_root.roles.at("root"),
                                  "root " + std::to_string(next) + " by its own keys"));
    if (next_root.common.version != next) {
      if (next_root.common.version < next) {
        return Rollback("root", next_root.common.version, next);
      }
      return VersionMismatch("root", next_root.common.version, next, "its file name");
    }
    EDS_RETURN_IF_ERROR(store_.Put("root", *bytes));
    root = std::move(next_root);
  }
  // New timestamp or snapshot keys end the trust in what the old keys signed: this is how a
  // repository recovers from a fast-forward attack. Done before the expiry check, since the new
  // roots are already stored.
  if (KeySet(root, "timestamp") != timestamp_keys || KeySet(root, "snapshot") != snapshot_keys) {
    EDS_RETURN_IF_ERROR(store_.Delete("timestamp"));
    EDS_RETURN_IF_ERROR(store_.Delete("snapshot"));
  }
  EDS_RETURN_IF_ERROR(internal::CheckNotExpired(root.common, state_->now, "root"));
  state_->root = std::move(root);
  return OkStatus();
}

Status TufClient::UpdateTimestamp() {
  const internal::Root& root = *state_->root;
  const internal::RoleKeys& keys = root.roles.at("timestamp");
  std::optional<internal::Timestamp> trusted = LoadStored<internal::Timestamp>(
      store_, "timestamp", root.keys, keys, internal::ParseTimestamp);

  EDS_ASSIGN_OR_RETURN(std::string bytes,
                       fetcher_.Fetch(MetadataUrl("timestamp", 0), options_.max_timestamp_length));
  EDS_ASSIGN_OR_RETURN(Envelope env, internal::ParseEnvelope(bytes, "timestamp"));
  EDS_RETURN_IF_ERROR(internal::VerifyThreshold(env, root.keys, keys, "timestamp"));
  EDS_ASSIGN_OR_RETURN(internal::Timestamp ts, internal::ParseTimestamp(env));
  bool unchanged = false;
  if (trusted) {
    if (ts.common.version < trusted->common.version) {
      return Rollback("timestamp", ts.common.version, trusted->common.version);
    }
    if (ts.snapshot.version < trusted->snapshot.version) {
      return Rollback("snapshot (in timestamp)", ts.snapshot.version, trusted->snapshot.version);
    }
    // The same version again: keep what we already trust.
    if (ts.common.version == trusted->common.version) {
      ts = std::move(*trusted);
      unchanged = true;
    }
  }
  EDS_RETURN_IF_ERROR(internal::CheckNotExpired(ts.common, state_->now, "timestamp"));
  if (!unchanged) EDS_RETURN_IF_ERROR(store_.Put("timestamp", bytes));
  state_->timestamp = std::move(ts);
  return OkStatus();
}

Status TufClient::UpdateSnapshot() {
  const internal::Root& root = *state_->root;
  const internal::RoleKeys& keys = root.roles.at("snapshot");
  const MetaFile& meta = state_->timestamp->snapshot;
  std::optional<internal::Snapshot> trusted =
      LoadStored<internal::Snapshot>(store_, "snapshot", root.keys, keys, internal::ParseSnapshot);
  if (trusted && trusted->common.version == meta.version &&
      internal::CheckNotExpired(trusted->common, state_->now, "snapshot").ok()) {
    state_->snapshot = std::move(trusted);
    return OkStatus();
  }

  const uint64_t max =
      meta.length ? static_cast<uint64_t>(*meta.length) : options_.max_snapshot_length;
  EDS_ASSIGN_OR_RETURN(
      std::string bytes,
      fetcher_.Fetch(MetadataUrl("snapshot", root.consistent_snapshot ? meta.version : 0), max));
  EDS_RETURN_IF_ERROR(
      internal::CheckLengthAndHashes(bytes, meta.length, meta.hashes, "snapshot.json"));
  EDS_ASSIGN_OR_RETURN(Envelope env, internal::ParseEnvelope(bytes, "snapshot"));
  EDS_RETURN_IF_ERROR(internal::VerifyThreshold(env, root.keys, keys, "snapshot"));
  EDS_ASSIGN_OR_RETURN(internal::Snapshot snap, internal::ParseSnapshot(env));
  if (trusted) {
    if (snap.common.version < trusted->common.version) {
      return Rollback("snapshot", snap.common.version, trusted->common.version);
    }
    for (const auto& [name, old] : trusted->meta) {
      auto it = snap.meta.find(name);
      if (it == snap.meta.end()) {
        return FailedPreconditionError("rollback attack: snapshot no longer lists " + name);
      }
      if (it->second.version < old.version) return Rollback(name, it->second.version, old.version);
    }
  }
  if (snap.common.version != meta.version) {
    return VersionMismatch("snapshot", snap.common.version, meta.version, "the timestamp");
  }
  EDS_RETURN_IF_ERROR(internal::CheckNotExpired(snap.common, state_->now, "snapshot"));
  EDS_RETURN_IF_ERROR(store_.Put("snapshot", bytes));
  state_->snapshot = std::move(snap);
  return OkStatus();
}

Status TufClient::LoadTargets(const std::string& role, const std::string& delegator) {
  if (state_->targets.count(role) != 0) return OkStatus();
  const internal::Root& root = *state_->root;
  const internal::KeyMap* keys = &root.keys;
  const internal::RoleKeys* role_keys = nullptr;
  if (delegator == "root") {
    role_keys = &root.roles.at("targets");
  } else {
    const internal::Targets& parent = state_->targets.at(delegator);
    keys = &parent.delegation_keys;
    for (const auto& d : parent.delegations) {
      if (d.name == role) role_keys = &d.keys;
    }
    if (role_keys == nullptr) return InternalError(delegator + " does not delegate to " + role);
  }
  auto meta_it = state_->snapshot->meta.find(role + ".json");
  if (meta_it == state_->snapshot->meta.end()) {
    return InvalidArgumentError("snapshot does not list " + role + ".json");
  }
  const MetaFile& meta = meta_it->second;
  auto parse = [&role](const Envelope& env) { return internal::ParseTargets(env, role); };
  std::optional<internal::Targets> trusted =
      LoadStored<internal::Targets>(store_, role, *keys, *role_keys, parse);
  if (trusted && trusted->common.version == meta.version &&
      internal::CheckNotExpired(trusted->common, state_->now, role).ok()) {
    state_->targets.emplace(role, std::move(*trusted));
    return OkStatus();
  }

  const uint64_t max =
      meta.length ? static_cast<uint64_t>(*meta.length) : options_.max_targets_length;
  EDS_ASSIGN_OR_RETURN(
      std::string bytes,
      fetcher_.Fetch(MetadataUrl(role, root.consistent_snapshot ? meta.version : 0), max));
  EDS_RETURN_IF_ERROR(
      internal::CheckLengthAndHashes(bytes, meta.length, meta.hashes, role + ".json"));
  EDS_ASSIGN_OR_RETURN(Envelope env, internal::ParseEnvelope(bytes, role));
  EDS_RETURN_IF_ERROR(internal::VerifyThreshold(env, *keys, *role_keys, role));
  EDS_ASSIGN_OR_RETURN(internal::Targets targets, parse(env));
  if (targets.common.version != meta.version) {
    return VersionMismatch(role, targets.common.version, meta.version, "the snapshot");
  }
  EDS_RETURN_IF_ERROR(internal::CheckNotExpired(targets.common, state_->now, role));
  EDS_RETURN_IF_ERROR(store_.Put(role, bytes));
  state_->targets.emplace(role, std::move(targets));
  return OkStatus();
}

namespace {

TargetInfo MakeInfo(const std::string& path, const internal::TargetFile& file) {
  TargetInfo info;
  info.path = path;
  info.length = file.length;
  info.hashes = file.hashes;
  if (!file.custom.is_null()) {
    auto text = internal::CanonicalJson(file.custom);
    if (text.ok()) info.custom_json = *text;
  }
  return info;
}

}  // namespace

Result<TargetInfo> TufClient::GetTargetInfo(std::string_view path) {
  if (state_->targets.count("targets") == 0) {
    return FailedPreconditionError("no trusted targets metadata: Refresh() first");
  }
  const std::string target(path);
  // Pre-order depth-first search through the delegation graph (spec 5.6.7).
  std::vector<std::pair<std::string, std::string>> to_visit = {{"targets", "root"}};
  std::set<std::string> visited;
  int visits = 0;
  while (!to_visit.empty() && visits < options_.max_delegations) {
    auto [role, delegator] = to_visit.back();
    to_visit.pop_back();
    if (!visited.insert(role).second) continue;
    ++visits;
    EDS_RETURN_IF_ERROR(LoadTargets(role, delegator));
    const internal::Targets& targets = state_->targets.at(role);
    auto found = targets.targets.find(target);
    if (found != targets.targets.end()) return MakeInfo(target, found->second);
    std::vector<std::pair<std::string, std::string>> children;
    for (const auto& d : targets.delegations) {
      if (!internal::DelegationCovers(d, target)) continue;
      children.emplace_back(d.name, role);
      if (d.terminating) {
        to_visit.clear();
        break;
      }
    }
    to_visit.insert(to_visit.end(), children.rbegin(), children.rend());
  }
  return NotFoundError("no target named " + target);
}

Result<std::vector<TargetInfo>> TufClient::TopLevelTargets() const {
  auto it = state_->targets.find("targets");
  if (it == state_->targets.end()) {
    return FailedPreconditionError("no trusted targets metadata: Refresh() first");
  }
  std::vector<TargetInfo> out;
  for (const auto& [path, file] : it->second.targets) out.push_back(MakeInfo(path, file));
  return out;
}

Status TufClient::VerifyTarget(const TargetInfo& info, std::string_view data) {
  if (info.hashes.empty()) return DataLossError("target " + info.path + " lists no hashes");
  return internal::CheckLengthAndHashes(data, info.length, info.hashes, "target " + info.path);
}

Result<std::string> TufClient::DownloadTarget(const TargetInfo& info) {
  if (!state_->root) return FailedPreconditionError("Refresh() first");
  if (info.hashes.empty()) return DataLossError("target " + info.path + " lists no hashes");
  std::string name = info.path;
  if (state_->root->consistent_snapshot) {
    const size_t slash = name.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : name.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    name = dir + info.hashes.begin()->second + "." + base;
  }
  EDS_ASSIGN_OR_RETURN(std::string data, fetcher_.Fetch(options_.targets_base_url + name,
                                                        static_cast<uint64_t>(info.length)));
  EDS_RETURN_IF_ERROR(VerifyTarget(info, data));
  return data;
}

int64_t TufClient::TargetsVersion() const {
  auto it = state_->targets.find("targets");
  return it == state_->targets.end() ? 0 : it->second.common.version;
}

}  // namespace eds::update
