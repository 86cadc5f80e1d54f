// OpenSSL helpers shared by the TLS set-up and the certificate code: owning pointers, error
// queue formatting and PEM loading that names the file in every error.
// Missing or unreadable files give kFailedPrecondition, malformed content kInvalidArgument.
// Error messages never contain key material. Thread-safe.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace eds::webadmin::internal {

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Drains this thread's OpenSSL error queue into one line ("no details" when it is empty).
std::string DrainOpenSslErrors();

// Reads a whole file of at most `max_bytes`. `what` names it in errors ("TLS key file").
Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  size_t max_bytes = 1 << 20);

// The first PEM certificate in `path`.
Result<X509Ptr> LoadCertificatePem(const std::string& path);
// The PEM private key in `path` (unencrypted).
Result<EvpPkeyPtr> LoadPrivateKeyPem(const std::string& path);

}  // namespace eds::webadmin::internal
