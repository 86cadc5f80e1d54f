/* Loaded next to the libssl shim; its SONAME is "libcrypto.so", so CivetWeb's own
 * dlopen("libcrypto.so") returns this library instead of failing where OpenSSL's development
 * package (the only one that provides that unversioned name) is not installed, as on the
 * appliance. It depends on libcrypto.so.3, through which CivetWeb's dlsym() finds every symbol. */
#include <openssl/crypto.h>

/* Lets the loader check that the library it got by this name is this shim. Returns the OpenSSL
 * version number the shim was built against. */
__attribute__((visibility("default"))) unsigned long eds_crypto_shim_openssl_version(void);

unsigned long eds_crypto_shim_openssl_version(void) { return OpenSSL_version_num(); }
