// EnsureDevCertificate and CertificateFingerprintSha256, checked with OpenSSL directly.
#include "webadmin/tls_certificate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::webadmin {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::ReadFileOrDie;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(
                                 ASN1_STRING_get0_data(name->d.dNSName))));
    } else if (name->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(name->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = "";
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress), text,
                sizeof(text));
      out.push_back("IP:" + std::string(text));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Verifies `cert` with itself as the only trust anchor, for `host` (DNS) or `ip`.
int VerifyAgainstItself(X509* cert, const char* host, const char* ip) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (host != nullptr) X509_VERIFY_PARAM_set1_host(param, host, 0);
  if (ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  const int ok = X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

TEST(AdminTlsCertificateTest, CreatesPrivateKeyAndSelfSignedServerCertificate) {
  TempDir dir;
  const std::string cert_path = dir.Sub("etc/eds/tls/admin.crt");
  const std::string key_path = dir.Sub("etc/eds/tls/admin.key");
  ASSERT_THAT(EnsureDevCertificate(cert_path, key_path, "edsbox.hospital.test"), IsOk());

  EXPECT_EQ(Mode(key_path), 0600u);
  EXPECT_EQ(Mode(dir.Sub("etc")), 0700u);
  EXPECT_EQ(Mode(dir.Sub("etc/eds/tls")), 0700u);
  EXPECT_EQ(
      std::filesystem::directory_iterator(dir.Sub("etc/eds/tls"))->path().string().find(".tmp."),
      std::string::npos);

  X509Ptr cert = ReadCert(cert_path);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  EXPECT_EQ(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
  char group[64] = "";
  EVP_PKEY_get_group_name(pub, group, sizeof(group), nullptr);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_verify(cert.get(), pub), 1);  // Signed by its own key.

  int days = 0;
  int secs = 0;
  ASSERT_EQ(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())),
      1);
  EXPECT_EQ(days, 825);
  EXPECT_EQ(secs, 0);

  EXPECT_EQ(SubjectAltNames(cert.get()),
            (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1",
                                      "DNS:edsbox.hospital.test"}));
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_BCONS, 0u);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<uint32_t>(XKU_SSL_SERVER));

  EXPECT_EQ(VerifyAgainstItself(cert.get(), "edsbox.hospital.test", nullptr), X509_V_OK);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), "localhost", nullptr), X509_V_OK);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), nullptr, "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), nullptr, "::1"), X509_V_OK);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), "other.test", nullptr), X509_V_ERR_HOSTNAME_MISMATCH);

  // The key file holds the private half of the certificate's key.
  FILE* f = std::fopen(key_path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key), 1);
  EVP_PKEY_free(key);
}

TEST(AdminTlsCertificateTest, SecondCallLeavesExistingFilesUnchanged) {
  TempDir dir;
  const std::string cert_path = dir.Sub("admin.crt");
  const std::string key_path = dir.Sub("admin.key");
  ASSERT_THAT(EnsureDevCertificate(cert_path, key_path, "edsbox"), IsOk());
  const std::string cert = ReadFileOrDie(cert_path);
  const std::string key = ReadFileOrDie(key_path);
  const auto cert_time = std::filesystem::last_write_time(cert_path);
  ASSERT_THAT(EnsureDevCertificate(cert_path, key_path, "edsbox"), IsOk());
  EXPECT_EQ(ReadFileOrDie(cert_path), cert);
  EXPECT_EQ(ReadFileOrDie(key_path), key);
  EXPECT_EQ(std::filesystem::last_write_time(cert_path), cert_time);
}

TEST(AdminTlsCertificateTest, IpAddressNameBecomesAnIpSubjectAltName) {
  TempDir dir;
  ASSERT_THAT(EnsureDevCertificate(dir.Sub("c.pem"), dir.Sub("k.pem"), "10.1.2.3"), IsOk());
  X509Ptr cert = ReadCert(dir.Sub("c.pem"));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(VerifyAgainstItself(cert.get(), nullptr, "10.1.2.3"), X509_V_OK);
}

TEST(AdminTlsCertificateTest, RejectsNameThatIsNotAHost) {
  TempDir dir;
  EXPECT_THAT(EnsureDevCertificate(dir.Sub("c.pem"), dir.Sub("k.pem"), "bad name,DNS:evil"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("k.pem")));
}

TEST(AdminTlsCertificateTest, FingerprintIsColonSeparatedSha256OfDer) {
  TempDir dir;
  ASSERT_THAT(EnsureDevCertificate(dir.Sub("c.pem"), dir.Sub("k.pem"), "edsbox"), IsOk());
  auto fingerprint = CertificateFingerprintSha256(dir.Sub("c.pem"));
  ASSERT_THAT(fingerprint, IsOk());
  X509Ptr cert = ReadCert(dir.Sub("c.pem"));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  ASSERT_EQ(X509_digest(cert.get(), EVP_sha256(), md, &len), 1);
  std::string expected;
  for (unsigned i = 0; i < len; ++i) {
    char pair[4];
    std::snprintf(pair, sizeof(pair), i == 0 ? "%02X" : ":%02X", md[i]);
    expected += pair;
  }
  EXPECT_EQ(*fingerprint, expected);
  EXPECT_EQ(fingerprint->size(), 95u);
}

TEST(AdminTlsCertificateTest, FingerprintOfMissingFileIsFailedPrecondition) {
  TempDir dir;
  EXPECT_THAT(CertificateFingerprintSha256(dir.Sub("absent.pem")),
              StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace eds::webadmin
