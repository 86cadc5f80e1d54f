#include "update/internal/crypto.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

#include "common/encoding.h"

namespace eds::update::internal {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

void EnsureSodium() {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "libsodium cannot initialise\n");
    std::abort();
  }
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, Bytes(data), data.size());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string Sha512Hex(std::string_view data) {
  unsigned char out[crypto_hash_sha512_BYTES];
  crypto_hash_sha512(out, Bytes(data), data.size());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature) {
  EnsureSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(Bytes(signature), Bytes(message), message.size(),
                                     Bytes(public_key)) == 0;
}

Ed25519KeyPair Ed25519Generate() {
  EnsureSodium();
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return *Ed25519FromSeed(seed);
}

Result<Ed25519KeyPair> Ed25519FromSeed(std::string_view seed) {
  EnsureSodium();
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return InvalidArgumentError("an Ed25519 private key is 32 bytes");
  }
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, Bytes(seed));
  sodium_memzero(sk, sizeof sk);
  return Ed25519KeyPair{std::string(reinterpret_cast<const char*>(pk), sizeof pk),
                        std::string(seed)};
}

std::string Ed25519Sign(std::string_view seed, std::string_view message) {
  EnsureSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, Bytes(seed));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, Bytes(message), message.size(), sk);
  sodium_memzero(sk, sizeof sk);
  return std::string(reinterpret_cast<const char*>(sig), sizeof sig);
}

}  // namespace eds::update::internal
