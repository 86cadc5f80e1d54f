#include "webadmin/auth/password.h"

#include <sodium.h>

#include <algorithm>
#include <unordered_set>

#include "webadmin/internal/embedded_file.h"

namespace eds::webadmin {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return out;
}

const std::unordered_set<std::string>& CommonPasswords() {
  static const auto* set = [] {
    auto* s = new std::unordered_set<std::string>();
    for (const auto& file : internal::CommonPasswordFiles()) {
      std::string_view text = file.data;
      while (!text.empty()) {
        const size_t nl = std::min(text.find('\n'), text.size());
        if (nl > 0) s->insert(Lower(text.substr(0, nl)));
        text.remove_prefix(std::min(nl + 1, text.size()));
      }
    }
    return s;
  }();
  return *set;
}

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password, std::string_view account) {
  if (CodePoints(password) < kMinPasswordLength) {
    return InvalidArgumentError("the password must have at least " +
                                std::to_string(kMinPasswordLength) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) return InvalidArgumentError("the password is too long");
  if (Lower(password) == Lower(account)) {
    return InvalidArgumentError("the password must not be the account name");
  }
  if (CommonPasswords().contains(Lower(password))) {
    return InvalidArgumentError("this password is too common; choose another");
  }
  return OkStatus();
}

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  const unsigned long long ops =
      cost.ops_limit != 0 ? cost.ops_limit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const size_t mem = cost.mem_limit != 0 ? cost.mem_limit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhaustedError("not enough memory to hash the password");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

}  // namespace eds::webadmin
