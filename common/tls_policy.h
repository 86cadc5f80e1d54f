// The TLS policy of every edsd endpoint (the admin server, the MLLP listener and the upstream
// client), in one place so one review covers all three.
#pragma once

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

}  // namespace eds::tls
