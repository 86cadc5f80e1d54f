#include "storage/key_ring.h"

#include <sodium.h>

#include "common/status_macros.h"

namespace eds::storage {
namespace {

constexpr uint8_t kWrapVersion = 1;
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string SealBlob(const SecretKey& key, std::string_view context, std::string_view plaintext) {
  std::string out(1 + kNonce + plaintext.size() + kTag, '\0');
  out[0] = static_cast<char>(kWrapVersion);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + 1);
  randombytes_buf(nonce, kNonce);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data() + 1 + kNonce), &clen, U(plaintext),
      plaintext.size(), U(context), context.size(), nullptr, nonce, key.data());
  out.resize(1 + kNonce + clen);
  return out;
}

Result<std::string> OpenBlob(const SecretKey& key, std::string_view context,
                             std::string_view sealed) {
  if (sealed.size() < 1 + kNonce + kTag || static_cast<uint8_t>(sealed[0]) != kWrapVersion) {
    return DataLossError("sealed data is truncated or of an unknown version");
  }
  std::string plain(sealed.size() - 1 - kNonce - kTag, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &mlen, nullptr,
          U(sealed.substr(1 + kNonce)), sealed.size() - 1 - kNonce, U(context), context.size(),
          U(sealed.substr(1)), key.data()) != 0) {
    sodium_memzero(plain.data(), plain.size());
    return DataLossError("sealed data failed authentication (altered, moved, or another key)");
  }
  plain.resize(mlen);
  return plain;
}

std::string KeyedHash(const SecretKey& key, std::string_view data, size_t size) {
  std::string out(size, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), size, U(data), data.size(),
                     key.data(), SecretKey::kSize);
  return out;
}

std::string KeyRing::MasterKeyId() const { return KeyedHash(master_, "eds master key id v1", 16); }

std::string KeyRing::Wrap(std::string_view context, KeyView key) const {
  return SealBlob(master_, context, key.view());
}

Status KeyRing::UnwrapInto(std::string_view context, std::string_view wrapped,
                           KeyBytes* out) const {
  if (wrapped.size() != 1 + kNonce + SecretKey::kSize + kTag ||
      static_cast<uint8_t>(wrapped[0]) != kWrapVersion) {
    return DataLossError("wrapped key is truncated or of an unknown version");
  }
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out->data(), &mlen, nullptr, U(wrapped.substr(1 + kNonce)), wrapped.size() - 1 - kNonce,
          U(context), context.size(), U(wrapped.substr(1)), master_.data()) != 0) {
    return DataLossError("wrapped key failed authentication (altered, moved, or another key)");
  }
  return OkStatus();
}

Result<SecretKey> KeyRing::Unwrap(std::string_view context, std::string_view wrapped) const {
  EDS_ASSIGN_OR_RETURN(std::string plain, OpenBlob(master_, context, wrapped));
  Result<SecretKey> key = SecretKey::FromBytes(plain);
  sodium_memzero(plain.data(), plain.size());
  if (!key.ok()) return DataLossError("wrapped key has the wrong size");
  return key;
}

}  // namespace eds::storage
