// NodeIdentity: the box's Ed25519 key pair, the name it is enrolled under upstream. The secret
// half is a store secret (made at first use, wrapped under the master key, rotated with it); the
// node id and fingerprint derive from the public key, so they cannot drift from it.
// Thread-safe after Load.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/secret_key.h"
#include "storage/store.h"

namespace eds::sync {

inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSignatureSize = 64;

class NodeIdentity {
 public:
  // Loads the key pair from the store, making it at first start.
  static Result<NodeIdentity> Load(storage::Store& store);
  // From a 32-byte seed (tests and tools).
  static NodeIdentity FromSeed(storage::SecretKey seed);

  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  std::string PublicKeyBase64() const;
  // "node-" and the first 12 bytes of SHA-256(public key) in hex.
  const std::string& node_id() const { return node_id_; }
  // "SHA256:" and the base64 of SHA-256(public key), as read aloud at enrolment.
  std::string Fingerprint() const;
  // Detached Ed25519 signature (64 raw bytes).
  std::string Sign(std::string_view message) const;

 private:
  explicit NodeIdentity(storage::SecretKey seed);
  std::shared_ptr<storage::SecretKey> seed_;
  std::string public_key_;
  std::string node_id_;
};

// Node id and fingerprint of any public key (the receiver shows them at enrolment).
std::string NodeIdOf(std::string_view public_key);
std::string FingerprintOf(std::string_view public_key);
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

}  // namespace eds::sync
