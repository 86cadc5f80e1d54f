// KeyRing: the master key (KEK) and what it protects. Wraps and unwraps 32-byte keys (patient
// data keys, store secrets) with XChaCha20-Poly1305 under the KEK, bound to a context string so a
// wrapped key cannot be moved to another slot. Pure computation, no I/O; thread-safe (const).
// Format of a wrapped key: docs/formats/record.md ("Wrapped keys").
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/secret_key.h"

namespace eds::storage {

class KeyRing {
 public:
  explicit KeyRing(SecretKey master) : master_(std::move(master)) {}

  // A public identifier of the master key (keyed hash), kept in the store so that opening it
  // with another key fails clearly instead of returning authentication errors later.
  std::string MasterKeyId() const;

  std::string Wrap(std::string_view context, KeyView key) const;
  // kDataLoss when the wrapped key was altered, moved to another context or made under
  // another master key.
  Result<SecretKey> Unwrap(std::string_view context, std::string_view wrapped) const;
  // The same into a caller's buffer, without a locked allocation (hot paths).
  Status UnwrapInto(std::string_view context, std::string_view wrapped, KeyBytes* out) const;

  const SecretKey& master() const { return master_; }

 private:
  SecretKey master_;
};

// Authenticated encryption of a blob under `key`, bound to `context` (dictionaries, manifests).
std::string SealBlob(const SecretKey& key, std::string_view context, std::string_view plaintext);
Result<std::string> OpenBlob(const SecretKey& key, std::string_view context,
                             std::string_view sealed);

// Keyed BLAKE2b of `data`, `size` bytes (16..64).
std::string KeyedHash(const SecretKey& key, std::string_view data, size_t size);

}  // namespace eds::storage
