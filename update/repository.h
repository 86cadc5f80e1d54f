// The operator's side of TUF: Ed25519 key files and a repository with consistent snapshots
// (metadata/<N>.root.json, timestamp.json, <N>.snapshot.json, <N>.targets.json and
// targets/<sha256>.<name>), signed with keys kept off the box, and offline bundles made from it.
// Used by eds-update-sign; every change re-signs targets, snapshot and timestamp with new
// versions. Errors: kInvalidArgument for bad key files or input, kUnavailable for I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace eds::update {

struct SigningKey {
  std::string keyid;       // SHA-256 of the canonical public key, as TUF defines key ids
  std::string public_hex;  // 32-byte Ed25519 public key, hex
  std::string seed;        // 32-byte private key (raw); never leaves the operator's machine
};

SigningKey GenerateSigningKey();
// Key file: {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":hex,"private":hex}},
// written with mode 0600.
Status SaveSigningKey(const std::filesystem::path& path, const SigningKey& key);
Result<SigningKey> LoadSigningKey(const std::filesystem::path& path);

struct RepositoryKeys {
  std::vector<SigningKey> root;
  std::vector<SigningKey> targets;
  std::vector<SigningKey> snapshot;
  std::vector<SigningKey> timestamp;
};

// Signs `signed_json` (the "signed" object as JSON text) with `keys`; returns the metadata file.
Result<std::string> SignMetadata(std::string_view signed_json, const std::vector<SigningKey>& keys);

// Creates version 1 of every role in `dir` (which must not hold a repository yet). Each role's
// threshold is the number of keys given for it. `expires` is seconds since the epoch.
Status InitRepository(const std::filesystem::path& dir, const RepositoryKeys& keys,
                      int64_t expires);

// Adds (or replaces) target `name` with the contents of `file` and optional `custom_json`
// (a JSON object, "" for none), then publishes new targets, snapshot and timestamp versions.
// Only keys.targets, keys.snapshot and keys.timestamp are needed.
Status AddTarget(const std::filesystem::path& dir, const RepositoryKeys& keys,
                 const std::string& name, const std::filesystem::path& file,
                 const std::string& custom_json, int64_t expires);

// Publishes the next root version with `keys` (all four roles), signed by `old_root` (the
// current root keys, which clients trust) and the new root keys, then signs targets, snapshot and
// timestamp again with the new keys. Clients follow the chain of root versions.
Status RotateKeys(const std::filesystem::path& dir, const std::vector<SigningKey>& old_root,
                  const RepositoryKeys& keys, int64_t expires);

// Writes every metadata and target file of the repository into one bundle.
Status MakeRepositoryBundle(const std::filesystem::path& dir, const std::filesystem::path& out);

}  // namespace eds::update
