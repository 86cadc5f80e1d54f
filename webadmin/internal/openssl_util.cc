#include "webadmin/internal/openssl_util.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "common/status_macros.h"

namespace eds::webadmin::internal {
namespace {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Wipes a buffer that held PEM text, which for keys is secret.
class ScopedWipe {
 public:
  explicit ScopedWipe(std::string& s) : s_(s) {}
  ~ScopedWipe() { OPENSSL_cleanse(s_.data(), s_.size()); }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  std::string& s_;
};

Result<BioPtr> MemoryBio(const std::string& bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError("PEM input too large");
  }
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (bio == nullptr) return InternalError("BIO_new_mem_buf: " + DrainOpenSslErrors());
  return bio;
}

}  // namespace

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long code = 0;  // NOLINT(google-runtime-int): OpenSSL's type.
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no details" : out;
}

Result<std::string> ReadSmallFile(const std::string& path, std::string_view what,
                                  size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FailedPreconditionError(std::string(what) + " " + path +
                                   ": cannot open: " + std::strerror(errno));
  }
  std::string data;
  // Reserved up front so that growing never leaves copies of key bytes in freed memory.
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0 && static_cast<size_t>(size) <= max_bytes) data.reserve(static_cast<size_t>(size));
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      OPENSSL_cleanse(data.data(), data.size());
      return InvalidArgumentError(std::string(what) + " " + path + ": larger than " +
                                  std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) {
    OPENSSL_cleanse(data.data(), data.size());
    return FailedPreconditionError(std::string(what) + " " + path + ": read error");
  }
  return data;
}

Result<X509Ptr> LoadCertificatePem(const std::string& path) {
  EDS_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, "TLS certificate file"));
  EDS_ASSIGN_OR_RETURN(BioPtr bio, MemoryBio(pem));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return InvalidArgumentError("TLS certificate file " + path +
                                ": not a PEM certificate: " + DrainOpenSslErrors());
  }
  return cert;
}

Result<EvpPkeyPtr> LoadPrivateKeyPem(const std::string& path) {
  EDS_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path, "TLS key file"));
  ScopedWipe wipe(pem);
  EDS_ASSIGN_OR_RETURN(BioPtr bio, MemoryBio(pem));
  // A callback that supplies no passphrase makes an encrypted key fail instead of prompting.
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (key == nullptr) {
    return InvalidArgumentError("TLS key file " + path +
                                ": not an unencrypted PEM private key: " + DrainOpenSslErrors());
  }
  return key;
}

}  // namespace eds::webadmin::internal
