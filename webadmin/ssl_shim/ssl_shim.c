/* Loaded by AdminServer before CivetWeb starts; its SONAME is "libssl.so", so CivetWeb's own
 * dlopen("libssl.so") returns this library and every other symbol resolves through its
 * dependency libssl.so.3. CivetWeb 1.15 looks up SSL_get_peer_certificate, which OpenSSL 3 only
 * offers as a macro: without this definition CivetWeb calls a NULL pointer on the first TLS
 * connection. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl);

X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
