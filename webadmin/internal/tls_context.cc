#include "webadmin/internal/tls_context.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/status_macros.h"
#include "common/tls_policy.h"
#include "webadmin/internal/openssl_util.h"

namespace eds::webadmin::internal {
namespace {

Status OpenSslFailure(const std::string& what) {
  return InternalError(what + ": " + DrainOpenSslErrors());
}

}  // namespace

Status CheckCertificateAndKey(const std::string& cert_path, const std::string& key_path) {
  EDS_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificatePem(cert_path));
  EDS_ASSIGN_OR_RETURN(EvpPkeyPtr key, LoadPrivateKeyPem(key_path));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    DrainOpenSslErrors();
    return InvalidArgumentError("TLS key file " + key_path + " does not match the certificate in " +
                                cert_path);
  }
  return OkStatus();
}

Status CheckServerCertificate(const std::string& cert_path) {
  EDS_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificatePem(cert_path));
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return InvalidArgumentError("the certificate is not valid yet");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return InvalidArgumentError("the certificate has expired");
  }
  // Also caches the extensions, so the flags below are filled in.
  const int server_use = X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0);
  if ((X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0) {
    return InvalidArgumentError("the certificate is a CA certificate, not a server certificate");
  }
  if (server_use != 1) {
    DrainOpenSslErrors();
    return InvalidArgumentError("the certificate's key usage does not allow a TLS server");
  }
  return OkStatus();
}

Status ConfigureServerTls(SSL_CTX* ctx, const std::string& cert_path, const std::string& key_path) {
  if (!tls::ApplyServerPolicy(ctx)) return OpenSslFailure("cannot configure TLS");
  // No passphrase: an encrypted key fails to load instead of prompting on a terminal.
  SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return InvalidArgumentError("TLS certificate file " + cert_path +
                                ": cannot load: " + DrainOpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return InvalidArgumentError("TLS key file " + key_path +
                                ": cannot load: " + DrainOpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgumentError("TLS key file " + key_path + " does not match the certificate in " +
                                cert_path + ": " + DrainOpenSslErrors());
  }
  return OkStatus();
}

Status RequireClientCertificates(SSL_CTX* ctx, const std::string& ca_path) {
  if (SSL_CTX_load_verify_locations(ctx, ca_path.c_str(), nullptr) != 1) {
    return InvalidArgumentError("client CA file " + ca_path +
                                ": cannot load: " + DrainOpenSslErrors());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return OkStatus();
}

}  // namespace eds::webadmin::internal
