// Server TLS policy, applied to the SSL_CTX that CivetWeb creates: TLS 1.2 and 1.3 only, ECDHE
// with AEAD ciphers only for 1.2, no renegotiation or compression, the configured certificate
// chain and key. Errors name the offending file (see openssl_util.h for the codes).
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "common/status.h"

namespace eds::webadmin::internal {

// Checks that both files load and that the key belongs to the certificate.
Status CheckCertificateAndKey(const std::string& cert_path, const std::string& key_path);

// Checks that the first certificate in `cert_path` is valid now, is not a CA and may serve TLS
// (its key usage and extended key usage, when present, allow it).
Status CheckServerCertificate(const std::string& cert_path);

// Applies the policy and loads the certificate chain and key into `ctx`.
Status ConfigureServerTls(SSL_CTX* ctx, const std::string& cert_path, const std::string& key_path);

// Mutual TLS: clients must present a certificate chaining to the CAs in `ca_path`.
Status RequireClientCertificates(SSL_CTX* ctx, const std::string& ca_path);

}  // namespace eds::webadmin::internal
