// TufClient: the client side of The Update Framework 1.0. Refresh() runs the top-level workflow
// (root chain, timestamp, snapshot, targets) against a Fetcher, checking signatures thresholds,
// expiry, versions (no rollback), lengths and hashes, and keeps what it trusts in a
// MetadataStore. Targets are then looked up through delegations and downloaded and verified.
// Errors say which attack was stopped:
//   kUnauthenticated    signature threshold not met (bad, missing or revoked keys)
//   kDeadlineExceeded   metadata expired (freeze)
//   kFailedPrecondition rollback to an older version; no trusted root installed
//   kDataLoss           a file does not match its length or hashes (arbitrary software)
//   kResourceExhausted  a file is longer than allowed (endless data)
//   kInvalidArgument    malformed metadata or a version other than the one announced
//   kNotFound           no such target; kUnavailable: the source failed, retry later
// Not thread-safe; the store, fetcher and clock must outlive the client.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "update/fetcher.h"
#include "update/metadata_store.h"

namespace eds::update {

struct TufClientOptions {
  // Where "<N>.root.json", "timestamp.json", ... live; a trailing '/' is added when missing.
  std::string metadata_base_url;
  // Where target files live (consistent snapshots add a hash prefix to the file name).
  std::string targets_base_url;
  // Upper bounds for files whose length no other metadata states (bytes).
  uint64_t max_root_length = 512000;
  uint64_t max_timestamp_length = 16384;
  uint64_t max_snapshot_length = 2000000;
  uint64_t max_targets_length = 5000000;
  int max_root_rotations = 256;  // root versions fetched in one Refresh
  int max_delegations = 32;      // roles visited in one target lookup
};

struct TargetInfo {
  std::string path;
  int64_t length = 0;
  std::map<std::string, std::string> hashes;  // algorithm -> hex
  std::string custom_json;                    // the "custom" object as JSON, "" when absent
};

class TufClient {
 public:
  TufClient(MetadataStore& store, Fetcher& fetcher, const Clock& clock, TufClientOptions options);
  ~TufClient();
  TufClient(const TufClient&) = delete;
  TufClient& operator=(const TufClient&) = delete;

  // Installs `root_bytes` as the trusted root (the one shipped with the image) after checking
  // that it is well formed and signed by a threshold of its own root keys.
  static Status InstallTrustedRoot(MetadataStore& store, std::string_view root_bytes);

  // The whole top-level update; on success the four roles are trusted and stored.
  Status Refresh();

  // Finds `path` through the targets role and its delegations. Requires a successful Refresh().
  Result<TargetInfo> GetTargetInfo(std::string_view path);
  // The targets listed directly by the top-level targets role, by path.
  Result<std::vector<TargetInfo>> TopLevelTargets() const;
  // Fetches a target and returns its bytes once length and hashes match.
  Result<std::string> DownloadTarget(const TargetInfo& info);
  // kDataLoss / kResourceExhausted unless `data` matches the target's length and hashes.
  static Status VerifyTarget(const TargetInfo& info, std::string_view data);

  // The version of the trusted top-level targets role (0 before Refresh()).
  int64_t TargetsVersion() const;

 private:
  struct State;
  Status UpdateRoot();
  Status UpdateTimestamp();
  Status UpdateSnapshot();
  Status LoadTargets(const std::string& role, const std::string& delegator);
  std::string MetadataUrl(std::string_view role, int64_t version) const;

  MetadataStore& store_;
  Fetcher& fetcher_;
  const Clock& clock_;
  TufClientOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace eds::update
