#include "webadmin/tls_certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "common/log.h"
#include "common/status_macros.h"
#include "webadmin/internal/openssl_util.h"

namespace eds::webadmin {
namespace {

using internal::DrainOpenSslErrors;
using internal::EvpPkeyPtr;
using internal::X509Ptr;

constexpr int kValidityDays = 825;
// Backdating tolerates a client clock a little behind the box's.
constexpr long kBackdateSeconds = 3600;  // NOLINT(google-runtime-int): OpenSSL's type.

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};

Status OpenSslError(const std::string& what) {
  return InternalError(what + ": " + DrainOpenSslErrors());
}

Status ErrnoError(const std::string& what, const std::string& path) {
  return InternalError(what + " " + path + ": " + std::strerror(errno));
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Status ValidateCommonName(const std::string& name) {
  if (IsIpAddress(name)) return OkStatus();
  bool ok = !name.empty() && name.size() <= 253 && name.front() != '.' && name.front() != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-');
  }
  if (!ok) return InvalidArgumentError("certificate name '" + name + "' is not a host name or IP");
  return OkStatus();
}

// Creates the missing ancestors of `file` with mode 0700; existing ones are left as they are.
Status CreateParentDirs(const std::string& file) {
  std::filesystem::path parent = std::filesystem::path(file).parent_path();
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (; !parent.empty() && !std::filesystem::exists(parent, ec); parent = parent.parent_path()) {
    missing.push_back(parent);
    if (parent == parent.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoError("cannot create directory", it->string());
    }
  }
  return OkStatus();
}

// Writes via a temporary file in the same directory and rename(), so a reader sees either the old
// file or the complete new one, never a partial file.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());  // Created with mode 0600.
  if (fd < 0) return ErrnoError("cannot create a temporary file for", path);
  bool ok = fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  ok = ok && rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    Status s = ErrnoError("cannot write", path);
    unlink(tmp.c_str());
    return s;
  }
  // The rename is durable only once the directory entry is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return OkStatus();
}

Result<EvpPkeyPtr> GenerateP256Key() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
      EVP_PKEY_generate(ctx.get(), &key) != 1) {
    return OpenSslError("cannot generate an ECDSA P-256 key");
  }
  return EvpPkeyPtr(key);
}

Status AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  const bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok) return OpenSslError("cannot add certificate extension " + value);
  return OkStatus();
}

Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("RAND_bytes");
  bytes[0] &= 0x7f;  // Serial numbers must be positive.
  bytes[0] |= 0x01;  // And keep 16 bytes, so never zero.
  std::unique_ptr<BIGNUM, BnDeleter> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("cannot set the certificate serial number");
  }
  return OkStatus();
}

Result<X509Ptr> MakeSelfSignedCertificate(EVP_PKEY* key, const std::string& name) {
  X509Ptr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidityDays, -kBackdateSeconds, nullptr) ==
          nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("cannot build the certificate");
  }
  EDS_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(name.c_str());
  const auto* org = reinterpret_cast<const unsigned char*>("eds-node development");
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, org, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1) {
    return OpenSslError("cannot set the certificate name");
  }
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (name != "localhost") san += (IsIpAddress(name) ? ",IP:" : ",DNS:") + name;
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_authority_key_identifier, "keyid:always"));
  EDS_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, san));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return OpenSslError("cannot sign");
  return cert;
}

// PEM text of `key` (PKCS#8) or `cert`. The key goes through a secure-heap BIO, wiped on free.
Result<std::string> ToPem(EVP_PKEY* key, X509* cert) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(key != nullptr ? BIO_s_secmem() : BIO_s_mem()));
  if (bio == nullptr) return OpenSslError("BIO_new");
  const int ok = key != nullptr ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                           nullptr, nullptr)
                                : PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  if (ok != 1 || len <= 0) return OpenSslError("cannot encode PEM");
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Status EnsureDevCertificate(const std::string& cert_path, const std::string& key_path,
                            const std::string& common_name) {
  std::error_code cert_ec;
  std::error_code key_ec;
  const bool have_cert = std::filesystem::exists(cert_path, cert_ec);
  const bool have_key = std::filesystem::exists(key_path, key_ec);
  if (cert_ec || key_ec) {
    return FailedPreconditionError("cannot check TLS files " + cert_path + " and " + key_path +
                                   ": " + (cert_ec ? cert_ec : key_ec).message());
  }
  if (have_cert && have_key) return OkStatus();
  if (have_cert || have_key) {
    // A lone key or certificate is useless without its pair; both are replaced together.
    LogWarning("replacing an incomplete development TLS key pair",
               {{"EDS_CERT_PATH", cert_path}, {"EDS_KEY_PATH", key_path}});
  }
  EDS_RETURN_IF_ERROR(ValidateCommonName(common_name));
  EDS_RETURN_IF_ERROR(CreateParentDirs(key_path));
  EDS_RETURN_IF_ERROR(CreateParentDirs(cert_path));

  EDS_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  EDS_ASSIGN_OR_RETURN(X509Ptr cert, MakeSelfSignedCertificate(key.get(), common_name));
  EDS_ASSIGN_OR_RETURN(std::string key_pem, ToPem(key.get(), nullptr));
  Status written = WriteFileAtomically(key_path, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  EDS_RETURN_IF_ERROR(written);
  // The key goes first: a crash in between leaves no certificate, so the next call starts over.
  EDS_ASSIGN_OR_RETURN(std::string cert_pem, ToPem(nullptr, cert.get()));
  EDS_RETURN_IF_ERROR(WriteFileAtomically(cert_path, cert_pem, 0644));

  EDS_ASSIGN_OR_RETURN(std::string fingerprint, CertificateFingerprintSha256(cert_path));
  LogInfo("generated a self-signed development TLS certificate",
          {{"EDS_CERT_PATH", cert_path}, {"EDS_SHA256_FINGERPRINT", fingerprint}});
  return OkStatus();
}

Result<std::string> CertificateFingerprintSha256(const std::string& cert_path) {
  EDS_ASSIGN_OR_RETURN(X509Ptr cert, internal::LoadCertificatePem(cert_path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) {
    return OpenSslError("cannot hash the certificate");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0f];
  }
  return out;
}

}  // namespace eds::webadmin
