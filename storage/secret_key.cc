#include "storage/secret_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/encoding.h"
#include "common/status_macros.h"

namespace eds::storage {
namespace {

uint8_t* AllocateLocked() {
  EDS_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
  auto* p = static_cast<uint8_t*>(sodium_malloc(SecretKey::kSize));
  EDS_CHECK(p != nullptr, "sodium_malloc failed");
  return p;
}

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

SecretKey::SecretKey() : data_(AllocateLocked()) {}

SecretKey SecretKey::Random() {
  SecretKey k;
  randombytes_buf(k.data_, kSize);
  return k;
}

Result<SecretKey> SecretKey::FromBytes(std::string_view bytes) {
  if (bytes.size() != kSize) {
    return InvalidArgumentError("a key must be exactly 32 bytes, got " +
                                std::to_string(bytes.size()));
  }
  SecretKey k;
  std::memcpy(k.data_, bytes.data(), kSize);
  return k;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    other.data_ = nullptr;
  }
  return *this;
}

SecretKey::~SecretKey() {
  if (data_ != nullptr) sodium_free(data_);
}

SecretKey SecretKey::Clone() const {
  SecretKey k;
  std::memcpy(k.data_, data_, kSize);
  return k;
}

KeyBytes::~KeyBytes() { sodium_memzero(bytes_, sizeof bytes_); }

KeyBytes KeyBytes::Random() {
  EDS_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
  KeyBytes k;
  randombytes_buf(k.bytes_, sizeof k.bytes_);
  return k;
}

Result<SecretKey> ReadKeyFile(const std::string& path) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("key file " + path + " does not exist");
    return PermissionDeniedError("cannot open key file " + path + ": " + ErrnoText());
  }
  // Read into locked memory: the hex text is as secret as the key.
  constexpr size_t kMax = 256;
  auto* buf = static_cast<char*>(sodium_malloc(kMax));
  EDS_CHECK(buf != nullptr, "sodium_malloc failed");
  size_t n = 0;
  while (n < kMax) {
    const ssize_t r = ::read(fd, buf + n, kMax - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += static_cast<size_t>(r);
  }
  ::close(fd);
  std::string_view text(buf, n);
  Result<SecretKey> result =
      InvalidArgumentError("key file " + path + " must hold 32 raw bytes or 64 hex characters");
  if (n == SecretKey::kSize) {
    result = SecretKey::FromBytes(text);
  } else {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
    if (text.size() == 2 * SecretKey::kSize) {
      SecretKey k = SecretKey::Random();
      size_t bin_len = 0;
      if (sodium_hex2bin(k.mutable_data(), SecretKey::kSize, text.data(), text.size(), nullptr,
                         &bin_len, nullptr) == 0 &&
          bin_len == SecretKey::kSize) {
        result = std::move(k);
      }
    }
  }
  sodium_free(buf);
  return result;
}

Status WriteKeyFile(const std::string& path, const SecretKey& key) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return PermissionDeniedError("cannot create key file " + tmp + ": " + ErrnoText());
  char hex[2 * SecretKey::kSize + 2];
  sodium_bin2hex(hex, sizeof hex, key.data(), SecretKey::kSize);
  hex[2 * SecretKey::kSize] = '\n';
  const size_t len = 2 * SecretKey::kSize + 1;
  const bool ok = ::write(fd, hex, len) == static_cast<ssize_t>(len) && ::fsync(fd) == 0;
  sodium_memzero(hex, sizeof hex);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return InternalError("cannot write key file " + path + ": " + ErrnoText());
  }
  const int dir_fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return OkStatus();
}

Result<LoadedMasterKey> LoadMasterKey(const MasterKeySource& source) {
  const char* cred_dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (cred_dir != nullptr && *cred_dir != '\0' && !source.credential_name.empty()) {
    const std::string path = std::string(cred_dir) + "/" + source.credential_name;
    Result<SecretKey> key = ReadKeyFile(path);
    if (key.ok()) {
      return LoadedMasterKey{std::move(key).value(), "credential " + source.credential_name};
    }
    if (key.status().code() != StatusCode::kNotFound) return key.status();
  }
  if (source.key_file.empty()) {
    return FailedPreconditionError(
        "no master key: neither the credential '" + source.credential_name +
        "' (under $CREDENTIALS_DIRECTORY) nor storage.master_key_file is available");
  }
  Result<SecretKey> key = ReadKeyFile(source.key_file);
  if (!key.ok() && key.status().code() == StatusCode::kNotFound && source.create_key_file) {
    SecretKey fresh = SecretKey::Random();
    EDS_RETURN_IF_ERROR(WriteKeyFile(source.key_file, fresh));
    return LoadedMasterKey{std::move(fresh), "new key file " + source.key_file};
  }
  if (!key.ok()) return key.status();
  return LoadedMasterKey{std::move(key).value(), "key file " + source.key_file};
}

}  // namespace eds::storage
