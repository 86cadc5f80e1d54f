// Development TLS certificate for the admin server: a self-signed ECDSA P-256 certificate for
// first boot, before the hospital installs its own. Files are replaced atomically; the key file is
// mode 0600 and new parent directories 0700. Key material is never logged.
// Errors: kInvalidArgument (bad name, malformed PEM), kFailedPrecondition (missing or unreadable
// file), kInternal (file system or OpenSSL failure). Thread-compatible: one writer per path.
#pragma once

#include <string>

#include "common/result.h"
#include "common/status.h"

namespace eds::webadmin {

// Leaves both files alone when they exist. Otherwise writes a new key and a certificate valid for
// 825 days with CN=`common_name` and SANs DNS:localhost, DNS:`common_name` (IP: when it is an
// address), IP:127.0.0.1 and IP:::1, for TLS server use only (CA:FALSE).
Status EnsureDevCertificate(const std::string& cert_path, const std::string& key_path,
                            const std::string& common_name);

// SHA-256 of the first certificate's DER in `cert_path`, as upper-case hex pairs joined by ':'.
Result<std::string> CertificateFingerprintSha256(const std::string& cert_path);

}  // namespace eds::webadmin
