// Process-wide TLS start-up for CivetWeb: finds and loads the libssl shim (see
// webadmin/ssl_shim/ssl_shim.c), then calls mg_init_library(MG_FEATURES_TLS), once per process.
// A failed attempt is not remembered, so a later call may succeed once the shim is in place.
// Errors: kFailedPrecondition naming the places searched or the loading failure. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace eds::webadmin::internal {

// The shim file to load: `env_value` (from $EDS_SSL_SHIM) when non-null and non-empty, without
// checking that it exists; else the first existing file among `search_dirs`/<shim name>.
Result<std::string> LocateSslShim(const char* env_value,
                                  const std::vector<std::string>& search_dirs);

// The default search: the directory of /proc/self/exe, then the install directory.
std::vector<std::string> DefaultSslShimDirs();

// dlopen()s `path` with RTLD_NOW | RTLD_GLOBAL and checks that it is what CivetWeb will get from
// dlopen("libssl.so") and that it defines SSL_get_peer_certificate. The library stays loaded.
Status LoadSslShim(const std::string& path);

// dlopen()s the crypto shim that lies next to the libssl shim at `ssl_shim_path` and checks that
// it is what CivetWeb will get from dlopen("libcrypto.so"); without it that name exists only
// where OpenSSL's development package is installed. The library stays loaded.
Status LoadCryptoShim(const std::string& ssl_shim_path);

// Locates and loads both shims, then initialises CivetWeb with TLS; a no-op after the first
// success.
Status InitCivetWebTls();

}  // namespace eds::webadmin::internal
