#include "ingest/mllp/internal/tls_server_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/tls_policy.h"

namespace eds::ingest::internal {
namespace {

// Empties OpenSSL's thread-local error queue into one line, so a later call does not report it.
std::string DrainOpenSslErrors() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsServerContext(
    const std::string& cert_path, const std::string& key_path) {
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return InternalError("cannot create a TLS context: " + DrainOpenSslErrors());
  // Created from a handle we checked, so the Asio constructor cannot fail; it takes ownership.
  auto context = std::make_unique<boost::asio::ssl::context>(raw);
  SSL_CTX* ctx = context->native_handle();
  if (!tls::ApplyServerPolicy(ctx)) {
    return InternalError("cannot configure TLS: " + DrainOpenSslErrors());
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return FailedPreconditionError("tls_cert_path: cannot load " + cert_path + ": " +
                                   DrainOpenSslErrors());
  }
  // The key is read by hand so that a key that does not match the certificate is told apart
  // from a key that cannot be read at all. The passphrase callback refuses: an encrypted key
  // fails to load instead of prompting on a terminal.
  FILE* file = std::fopen(key_path.c_str(), "re");
  if (file == nullptr) {
    return FailedPreconditionError("tls_key_path: cannot open " + key_path + ": " +
                                   std::strerror(errno));
  }
  EVP_PKEY* key = PEM_read_PrivateKey(
      file, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  std::fclose(file);
  if (key == nullptr) {
    return FailedPreconditionError("tls_key_path: cannot load " + key_path + ": " +
                                   DrainOpenSslErrors());
  }
  const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) == 1;
  const bool used = matches && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!matches) {
    DrainOpenSslErrors();
    return InvalidArgumentError("tls_key_path: " + key_path +
                                " does not match the certificate in " + cert_path);
  }
  if (!used) return InternalError("cannot use the TLS key: " + DrainOpenSslErrors());
  return context;
}

}  // namespace eds::ingest::internal
