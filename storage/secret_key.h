// SecretKey: 32 bytes of key material in locked memory (libsodium sodium_malloc: guard pages,
// mlock, excluded from core dumps, wiped on free). Move-only.
// LoadMasterKey finds the master key: a systemd credential ($CREDENTIALS_DIRECTORY/<name>),
// else a development key file. Key files hold 32 raw bytes or 64 hex characters.
#pragma once

#include <cstdint>
#include <cstring>
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

// KeyBytes: a 32-byte key by value, for short-lived copies on the stack (a cache hit, a freshly
// unwrapped data key); wiped on destruction. Long-lived keys belong in SecretKey or a KeyCache.
class KeyBytes {
 public:
  KeyBytes() = default;
  KeyBytes(const KeyBytes& other) { std::memcpy(bytes_, other.bytes_, sizeof bytes_); }
  KeyBytes& operator=(const KeyBytes& other) {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    return *this;
  }
  ~KeyBytes();
  static KeyBytes Random();
  uint8_t* data() { return bytes_; }
  const uint8_t* data() const { return bytes_; }

 private:
  uint8_t bytes_[SecretKey::kSize] = {};
};

// KeyView: borrows the bytes of a SecretKey or KeyBytes, which must outlive it.
class KeyView {
 public:
  KeyView(const SecretKey& key) : data_(key.data()) {}  // NOLINT(google-explicit-constructor)
  KeyView(const KeyBytes& key) : data_(key.data()) {}   // NOLINT(google-explicit-constructor)
  const uint8_t* data() const { return data_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), SecretKey::kSize}; }

 private:
  const uint8_t* data_;
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
