#include "webadmin/internal/tls_library.h"

#include <civetweb.h>
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "common/log.h"
#include "common/mutex.h"
#include "common/status_macros.h"

namespace eds::webadmin::internal {
namespace {

constexpr char kShimFileName[] = EDS_SSL_SHIM_FILE_NAME;
constexpr char kShimInstallDir[] = EDS_SSL_SHIM_INSTALL_DIR;
constexpr char kCryptoShimFileName[] = EDS_CRYPTO_SHIM_FILE_NAME;
// The names under which CivetWeb 1.15 dlopen()s OpenSSL's TLS and crypto libraries.
constexpr char kCivetWebSslName[] = "libssl.so";
constexpr char kCivetWebCryptoName[] = "libcrypto.so";

Mutex init_mu;
bool initialized EDS_GUARDED_BY(init_mu) = false;

std::string DlErrorText() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown dlopen error";
}

}  // namespace

Result<std::string> LocateSslShim(const char* env_value,
                                  const std::vector<std::string>& search_dirs) {
  if (env_value != nullptr && env_value[0] != '\0') return std::string(env_value);
  std::string searched;
  for (const std::string& dir : search_dirs) {
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / kShimFileName;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    if (!searched.empty()) searched += ", ";
    searched += candidate.string();
  }
  return FailedPreconditionError(std::string("TLS library shim ") + kShimFileName +
                                 " not found (searched: " + searched +
                                 "); set EDS_SSL_SHIM to its path");
}

std::vector<std::string> DefaultSslShimDirs() {
  std::vector<std::string> dirs;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back(exe.parent_path().string());
  dirs.emplace_back(kShimInstallDir);
  return dirs;
}

Status LoadSslShim(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    // A bare name would be searched on the library path and could pick up the real libssl.so.
    return FailedPreconditionError("TLS library shim path must be absolute: '" + path + "'");
  }
  void* shim = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (shim == nullptr) {
    return FailedPreconditionError("cannot load TLS library shim " + path + ": " + DlErrorText());
  }
  // dlsym on the handle only searches the shim and its dependencies, never the global scope.
  if (dlsym(shim, "SSL_get_peer_certificate") == nullptr) {
    dlclose(shim);
    return FailedPreconditionError("TLS library shim " + path +
                                   " does not define SSL_get_peer_certificate");
  }
  void* seen_by_civetweb = dlopen(kCivetWebSslName, RTLD_NOW | RTLD_NOLOAD);
  if (seen_by_civetweb != nullptr) dlclose(seen_by_civetweb);
  if (seen_by_civetweb != shim) {
    dlclose(shim);
    return FailedPreconditionError("TLS library shim " + path +
                                   " is not what dlopen(\"libssl.so\") returns (its SONAME "
                                   "must be libssl.so, loaded before any other libssl.so)");
  }
  return OkStatus();
}

Status LoadCryptoShim(const std::string& ssl_shim_path) {
  const std::string path =
      (std::filesystem::path(ssl_shim_path).parent_path() / kCryptoShimFileName).string();
  void* shim = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (shim == nullptr) {
    return FailedPreconditionError("cannot load crypto library shim " + path + ": " +
                                   DlErrorText());
  }
  if (dlsym(shim, "eds_crypto_shim_openssl_version") == nullptr) {
    dlclose(shim);
    return FailedPreconditionError(path + " is not the crypto library shim");
  }
  void* seen_by_civetweb = dlopen(kCivetWebCryptoName, RTLD_NOW | RTLD_NOLOAD);
  if (seen_by_civetweb != nullptr) dlclose(seen_by_civetweb);
  if (seen_by_civetweb != shim) {
    dlclose(shim);
    return FailedPreconditionError("crypto library shim " + path +
                                   " is not what dlopen(\"libcrypto.so\") returns (its SONAME "
                                   "must be libcrypto.so, loaded before any other libcrypto.so)");
  }
  return OkStatus();
}

Status InitCivetWebTls() {
  MutexLock lock(init_mu);
  if (initialized) return OkStatus();
  EDS_ASSIGN_OR_RETURN(std::string path,
                       LocateSslShim(std::getenv("EDS_SSL_SHIM"), DefaultSslShimDirs()));
  EDS_RETURN_IF_ERROR(LoadSslShim(path));
  EDS_RETURN_IF_ERROR(LoadCryptoShim(path));
  const unsigned features = mg_init_library(MG_FEATURES_TLS);
  if ((features & MG_FEATURES_TLS) == 0) {
    // Balances the library reference that mg_init_library took even though TLS failed.
    mg_exit_library();
    return FailedPreconditionError(
        "CivetWeb could not initialise TLS (it dlopen()s libssl.so and libcrypto.so)");
  }
  LogInfo("CivetWeb TLS initialised", {{"EDS_SSL_SHIM", path}});
  initialized = true;
  return OkStatus();
}

}  // namespace eds::webadmin::internal
