// Server-side TLS settings for the MLLP listener: TLS 1.2 or 1.3 only, forward-secret AEAD
// cipher suites, no compression or renegotiation, certificate chain and key from PEM files.
// Errors: kFailedPrecondition (a file cannot be loaded, naming the option and path),
// kInvalidArgument (the key does not match the certificate), kInternal (OpenSSL failure).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"

namespace eds::ingest::internal {

Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsServerContext(
    const std::string& cert_path, const std::string& key_path);

}  // namespace eds::ingest::internal
