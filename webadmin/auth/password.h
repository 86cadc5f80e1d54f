// Passwords of admin accounts: the policy a new password must meet, and Argon2id hashing
// (libsodium crypto_pwhash_str, salt and parameters inside the stored string). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::webadmin {

inline constexpr size_t kMinPasswordLength = 12;  // characters (UTF-8 code points)
inline constexpr size_t kMaxPasswordBytes = 1024;

// Argon2id work factors. The defaults are libsodium's "interactive" ones (64 MiB, 2 passes).
struct PasswordCost {
  unsigned long long ops_limit = 0;  // 0 = crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t mem_limit = 0;              // 0 = crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// kInvalidArgument saying why: shorter than 12 characters, too long, equal to the account name,
// or in the list of common passwords shipped with the product (compared case-insensitively).
Status CheckPasswordPolicy(std::string_view password, std::string_view account);

// The encoded Argon2id hash. kResourceExhausted when memory for the hash cannot be had.
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);
// Whether `password` matches `encoded` (constant time in the password).
bool VerifyPassword(const std::string& encoded, std::string_view password);

}  // namespace eds::webadmin
