#include "sync/identity.h"

#include <sodium.h>

#include "common/encoding.h"
#include "common/status_macros.h"

namespace eds::sync {
namespace {

constexpr std::string_view kSecretName = "node-identity";

std::string Sha256(std::string_view bytes) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return out;
}

// The secret half lives only for the duration of one signature, wiped after.
struct SigningKey {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  explicit SigningKey(const storage::SecretKey& seed) {
    static_assert(storage::SecretKey::kSize == crypto_sign_SEEDBYTES);
    crypto_sign_seed_keypair(pk, sk, seed.data());
  }
  ~SigningKey() { sodium_memzero(sk, sizeof sk); }
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
};

}  // namespace

std::string NodeIdOf(std::string_view public_key) {
  return "node-" + HexEncode(Sha256(public_key).substr(0, 12));
}

std::string FingerprintOf(std::string_view public_key) {
  return "SHA256:" + Base64Encode(Sha256(public_key));
}

bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

NodeIdentity::NodeIdentity(storage::SecretKey seed)
    : seed_(std::make_shared<storage::SecretKey>(std::move(seed))) {
  SigningKey key(*seed_);
  public_key_.assign(reinterpret_cast<const char*>(key.pk), sizeof key.pk);
  node_id_ = NodeIdOf(public_key_);
}

Result<NodeIdentity> NodeIdentity::Load(storage::Store& store) {
  EDS_ASSIGN_OR_RETURN(storage::SecretKey seed, store.Secret(kSecretName));
  return NodeIdentity(std::move(seed));
}

NodeIdentity NodeIdentity::FromSeed(storage::SecretKey seed) {
  return NodeIdentity(std::move(seed));
}

std::string NodeIdentity::PublicKeyBase64() const { return Base64Encode(public_key_); }

std::string NodeIdentity::Fingerprint() const { return FingerprintOf(public_key_); }

std::string NodeIdentity::Sign(std::string_view message) const {
  SigningKey key(*seed_);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       key.sk);
  return sig;
}

}  // namespace eds::sync
