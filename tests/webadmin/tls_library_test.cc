// Locating and loading the libssl shim that keeps CivetWeb 1.15 from calling a NULL
// SSL_get_peer_certificate under OpenSSL 3.
#include "webadmin/internal/tls_library.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::webadmin::internal {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using ::testing::HasSubstr;

const std::string kShimName = std::filesystem::path(EDS_TEST_SSL_SHIM).filename().string();

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

TEST(AdminTlsLibraryTest, EnvironmentValueWinsOverSearchDirs) {
  TempDir dir;
  Touch(dir.Sub(kShimName));
  auto found = LocateSslShim("/opt/custom/shim.so", {dir.path().string()});
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(*found, "/opt/custom/shim.so");
}

TEST(AdminTlsLibraryTest, SearchDirsAreTriedInOrder) {
  TempDir first;
  TempDir second;
  Touch(second.Sub(kShimName));
  auto found = LocateSslShim("", {first.path().string(), second.path().string()});
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(*found, second.Sub(kShimName));
  Touch(first.Sub(kShimName));
  EXPECT_EQ(*LocateSslShim(nullptr, {first.path().string(), second.path().string()}),
            first.Sub(kShimName));
}

TEST(AdminTlsLibraryTest, NotFoundNamesEverySearchedPath) {
  TempDir dir;
  auto found = LocateSslShim(nullptr, {dir.path().string(), "/nonexistent/eds"});
  EXPECT_THAT(found, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(found.status().message(), HasSubstr(dir.Sub(kShimName)));
  EXPECT_THAT(found.status().message(), HasSubstr("/nonexistent/eds/" + kShimName));
  EXPECT_THAT(found.status().message(), HasSubstr("EDS_SSL_SHIM"));
}

TEST(AdminTlsLibraryTest, DefaultSearchIsExecutableDirThenInstallDir) {
  auto dirs = DefaultSslShimDirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], std::filesystem::read_symlink("/proc/self/exe").parent_path().string());
  EXPECT_THAT(dirs[1], HasSubstr("/eds"));
}

TEST(AdminTlsLibraryTest, LoadRefusesWhatIsNotTheShim) {
  TempDir dir;
  Touch(dir.Sub("not-a-library.so"));
  EXPECT_THAT(LoadSslShim(dir.Sub("not-a-library.so")), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(LoadSslShim(dir.Sub("absent.so")), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(LoadSslShim(kShimName), StatusIs(StatusCode::kFailedPrecondition));  // Relative.
  // OpenSSL's own libssl.so.3 lacks SSL_get_peer_certificate, the very reason for the shim.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&SSL_CTX_new), &info), 0);
  const std::string real_libssl = info.dli_fname;
  ASSERT_THAT(real_libssl, HasSubstr("libssl.so.3"));
  Status s = LoadSslShim(real_libssl);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("does not define SSL_get_peer_certificate"));
}

TEST(AdminTlsLibraryTest, LoadsBuiltShimAsCivetWebsLibssl) {
  EXPECT_THAT(LoadSslShim(EDS_TEST_SSL_SHIM), IsOk());
  void* shim = dlopen(EDS_TEST_SSL_SHIM, RTLD_NOW | RTLD_NOLOAD);
  void* as_civetweb_sees_it = dlopen("libssl.so", RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(shim, nullptr);
  EXPECT_EQ(as_civetweb_sees_it, shim);
  EXPECT_NE(dlsym(as_civetweb_sees_it, "SSL_get_peer_certificate"), nullptr);
  EXPECT_NE(dlsym(as_civetweb_sees_it, "SSL_CTX_new"), nullptr);  // Through libssl.so.3.
  if (shim != nullptr) dlclose(shim);
  if (as_civetweb_sees_it != nullptr) dlclose(as_civetweb_sees_it);
}

TEST(AdminTlsLibraryTest, LoadsBuiltCryptoShimAsCivetWebsLibcrypto) {
  // The appliance has no libssl-dev, so no file answers dlopen("libcrypto.so") but the shim.
  EXPECT_THAT(LoadCryptoShim(EDS_TEST_SSL_SHIM), IsOk());
  void* as_civetweb_sees_it = dlopen("libcrypto.so", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(as_civetweb_sees_it, nullptr);
  EXPECT_NE(dlsym(as_civetweb_sees_it, "eds_crypto_shim_openssl_version"), nullptr);
  // CivetWeb's lookups through that handle reach libcrypto.so.3.
  EXPECT_NE(dlsym(as_civetweb_sees_it, "ERR_get_error"), nullptr);
  dlclose(as_civetweb_sees_it);
}

TEST(AdminTlsLibraryTest, CryptoShimMustLieNextToTheSslShim) {
  TempDir dir;
  Status s = LoadCryptoShim(dir.Sub("libeds_ssl_shim.so"));
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("crypto library shim"));
}

}  // namespace
}  // namespace eds::webadmin::internal
