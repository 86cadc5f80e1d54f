// SecretKey: 32 bytes of key material in locked memory (libsodium sodium_malloc: guard pages,
// mlock, excluded from core dumps, wiped on free). Move-only.
// LoadMasterKey finds the master key: a systemd credential ($CREDENTIALS_DIRECTORY/<name>),
// else a development key file. Key files hold 32 raw bytes or 64 hex characters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::storage {

class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  // Fresh random key.
  static SecretKey Random();
  // Exactly kSize bytes, else kInvalidArgument.
  static Result<SecretKey> FromBytes(std::string_view bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), kSize}; }
  SecretKey Clone() const;

 private:
  SecretKey();
  uint8_t* data_ = nullptr;
};

struct MasterKeySource {
  std::string credential_name;   // looked up under $CREDENTIALS_DIRECTORY when that is set
  std::string key_file;          // development fallback; empty = none
  bool create_key_file = false;  // development: make a random key file (0600) when missing
};

// Where the key was found, for the start-up log (never the key itself).
struct LoadedMasterKey {
  SecretKey key;
  std::string origin;  // "credential <name>" or "key file <path>"
};

Result<LoadedMasterKey> LoadMasterKey(const MasterKeySource& source);
// Reads a key file (raw 32 bytes or 64 hex characters, surrounding whitespace ignored).
Result<SecretKey> ReadKeyFile(const std::string& path);
// Writes `key` as hex to `path` atomically with mode 0600 (temp file, fsync, rename).
Status WriteKeyFile(const std::string& path, const SecretKey& key);

}  // namespace eds::storage
