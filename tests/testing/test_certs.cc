#include "tests/testing/test_certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/status_macros.h"

namespace eds::testing {
namespace {

using std::chrono::system_clock;

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

Status OpenSslError(const std::string& what) {
  std::string detail;
  char buf[256];
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {  // NOLINT(runtime/int)
    ERR_error_string_n(e, buf, sizeof buf);
    detail += detail.empty() ? "" : "; ";
    detail += buf;
  }
  return InternalError(what + ": " + (detail.empty() ? "unknown OpenSSL error" : detail));
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Result<PkeyPtr> GenerateKey() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
      EVP_PKEY_generate(ctx.get(), &key) != 1) {
    return OpenSslError("cannot generate a P-256 key");
  }
  return PkeyPtr(key);
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  const bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok) return OpenSslError("cannot add extension " + value);
  return OkStatus();
}

Status SetTime(ASN1_TIME* field, system_clock::time_point t) {
  if (ASN1_TIME_set(field, system_clock::to_time_t(t)) == nullptr) {
    return OpenSslError("cannot set a validity date");
  }
  return OkStatus();
}

Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return OpenSslError("RAND_bytes");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x01);  // Positive, never zero.
  std::unique_ptr<BIGNUM, BnDeleter> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("cannot set the serial number");
  }
  return OkStatus();
}

// A certificate for `subject_key` named CN=`common_name`, signed by `issuer_key` under
// `issuer` (nullptr = self-signed).
Result<X509Ptr> BuildCert(EVP_PKEY* subject_key, const std::string& common_name, X509* issuer,
                          EVP_PKEY* issuer_key, const CertValidity& validity, bool is_ca,
                          const std::string& host) {
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpenSslError("cannot build a certificate");
  }
  EDS_RETURN_IF_ERROR(SetTime(X509_getm_notBefore(cert.get()), validity.not_before));
  EDS_RETURN_IF_ERROR(SetTime(X509_getm_notAfter(cert.get()), validity.not_after));
  EDS_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const auto* org = reinterpret_cast<const unsigned char*>("eds-node tests");
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) != 1) {
    return OpenSslError("cannot set certificate names");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  EDS_RETURN_IF_ERROR(
      AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  if (is_ca) {
    EDS_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    EDS_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    EDS_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    EDS_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature"));
    EDS_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth"));
    EDS_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_alt_name,
                                     (IsIpAddress(host) ? "IP:" : "DNS:") + host));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) {
    return OpenSslError("cannot sign a certificate");
  }
  return cert;
}

Status WritePem(const std::string& path, EVP_PKEY* key, X509* cert) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (bio == nullptr) return OpenSslError("cannot open " + path);
  const int ok = key != nullptr ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                           nullptr, nullptr)
                                : PEM_write_bio_X509(bio.get(), cert);
  if (ok != 1 || BIO_flush(bio.get()) != 1) return OpenSslError("cannot write " + path);
  return OkStatus();
}

Result<CertFiles> WritePair(const std::filesystem::path& dir, const std::string& name,
                            EVP_PKEY* key, X509* cert) {
  CertFiles files{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  EDS_RETURN_IF_ERROR(WritePem(files.key_path, key, nullptr));
  EDS_RETURN_IF_ERROR(WritePem(files.cert_path, nullptr, cert));
  return files;
}

Result<X509Ptr> ReadCert(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  X509* cert = bio != nullptr ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (cert == nullptr) {
    ERR_clear_error();
    return FailedPreconditionError("cannot read certificate " + path);
  }
  return X509Ptr(cert);
}

Result<PkeyPtr> ReadKey(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) {
    ERR_clear_error();
    return FailedPreconditionError("cannot read key " + path);
  }
  return PkeyPtr(key);
}

}  // namespace

CertValidity CertValidity::Current() {
  const auto now = system_clock::now();
  return {now - std::chrono::hours(1), now + std::chrono::hours(24)};
}

CertValidity CertValidity::Expired() {
  const auto now = system_clock::now();
  return {now - std::chrono::hours(24 * 366), now - std::chrono::hours(24)};
}

Result<CertFiles> MakeTestCa(const std::filesystem::path& dir, const std::string& name) {
  EDS_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  CertValidity validity = CertValidity::Current();
  validity.not_after = system_clock::now() + std::chrono::hours(24 * 3650);
  EDS_ASSIGN_OR_RETURN(X509Ptr cert,
                       BuildCert(key.get(), name, nullptr, key.get(), validity, true, ""));
  return WritePair(dir, name, key.get(), cert.get());
}

Result<CertFiles> MakeServerCert(const std::filesystem::path& dir, const std::string& name,
                                 const CertFiles& ca, const std::string& host,
                                 const CertValidity& validity) {
  EDS_ASSIGN_OR_RETURN(X509Ptr ca_cert, ReadCert(ca.cert_path));
  EDS_ASSIGN_OR_RETURN(PkeyPtr ca_key, ReadKey(ca.key_path));
  EDS_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  EDS_ASSIGN_OR_RETURN(
      X509Ptr cert, BuildCert(key.get(), host, ca_cert.get(), ca_key.get(), validity, false, host));
  return WritePair(dir, name, key.get(), cert.get());
}

Result<CertFiles> MakeSelfSignedCert(const std::filesystem::path& dir, const std::string& name,
                                     const std::string& host, const CertValidity& validity) {
  EDS_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  EDS_ASSIGN_OR_RETURN(X509Ptr cert,
                       BuildCert(key.get(), host, nullptr, key.get(), validity, false, host));
  return WritePair(dir, name, key.get(), cert.get());
}

}  // namespace eds::testing
