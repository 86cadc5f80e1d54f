// Test certificates made with OpenSSL: a test CA, server certificates it signs (with chosen
// validity, so an expired one can be made) and self-signed certificates. ECDSA P-256 keys; files
// are written as PEM into a directory the caller owns (a TempDir). Errors: kInternal (OpenSSL or
// file system failure), kFailedPrecondition (unreadable CA files). Thread-compatible.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace eds::testing {

struct CertFiles {
  std::string cert_path;
  std::string key_path;
};

struct CertValidity {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  // From an hour ago to a day from now.
  static CertValidity Current();
  // Ended a day ago, after a year of validity.
  static CertValidity Expired();
};

// `<dir>/<name>.crt` and `<dir>/<name>.key`: a CA certificate (CA:TRUE, keyCertSign) with
// CN=`name`, valid for CertValidity::Current() widened to ten years ahead.
Result<CertFiles> MakeTestCa(const std::filesystem::path& dir, const std::string& name);

// A leaf certificate for `host` (a DNS name or an IP address, put in the SAN) signed by `ca`, for
// server or client use (mutual TLS).
Result<CertFiles> MakeServerCert(const std::filesystem::path& dir, const std::string& name,
                                 const CertFiles& ca, const std::string& host,
                                 const CertValidity& validity = CertValidity::Current());

// A self-signed server certificate for `host`, trusted by nobody.
Result<CertFiles> MakeSelfSignedCert(const std::filesystem::path& dir, const std::string& name,
                                     const std::string& host,
                                     const CertValidity& validity = CertValidity::Current());

}  // namespace eds::testing
