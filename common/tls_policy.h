// The TLS policy of every edsd endpoint (the admin server, the MLLP listener and the upstream
// client), in one place so one review covers all three. Header-only, for the modules that link
// OpenSSL.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace eds::tls {

// TLS 1.2: ECDHE key exchange (forward secrecy) with AEAD ciphers only; no CBC, no static RSA.
inline constexpr char kTls12CipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3: its AEAD suites (CCM left out, as OpenSSL's default does).
inline constexpr char kTls13CipherSuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr char kGroups[] = "X25519:P-256:P-384";

// Sets the policy on `ctx`: TLS 1.2 at least, the ciphers, suites and groups above. False when
// OpenSSL refuses one (its error queue says why).
inline bool ApplyPolicy(SSL_CTX* ctx) {
  std::string groups = kGroups;  // the OpenSSL macro casts away const
  return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_set_cipher_list(ctx, kTls12CipherList) == 1 &&
         SSL_CTX_set_ciphersuites(ctx, kTls13CipherSuites) == 1 &&
         SSL_CTX_set1_groups_list(ctx, groups.data()) == 1;
}

// ApplyPolicy for a server, which also refuses renegotiation and compression and picks the
// cipher by its own order.
inline bool ApplyServerPolicy(SSL_CTX* ctx) {
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return ApplyPolicy(ctx);
}

}  // namespace eds::tls
