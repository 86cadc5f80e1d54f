// The libsodium calls the update module needs: SHA-256/512 and Ed25519.
// Bytes are std::string; hex is lower case. Keeps libsodium out of every other header.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::update::internal {

// Aborts when libsodium cannot initialise (no entropy source): nothing here can work without it.
void EnsureSodium();

std::string Sha256Hex(std::string_view data);
std::string Sha512Hex(std::string_view data);

// True when `signature` (64 raw bytes) is a valid Ed25519 signature of `message` by `public_key`
// (32 raw bytes). Wrong sizes are simply invalid.
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

struct Ed25519KeyPair {
  std::string public_key;  // 32 bytes
  std::string seed;        // 32 bytes: the private key as key files keep it
};
Ed25519KeyPair Ed25519Generate();
// kInvalidArgument unless `seed` is 32 bytes.
Result<Ed25519KeyPair> Ed25519FromSeed(std::string_view seed);
// Signs with the key made from `seed` (32 bytes, checked by the caller through Ed25519FromSeed).
std::string Ed25519Sign(std::string_view seed, std::string_view message);

}  // namespace eds::update::internal
