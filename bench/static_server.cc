// static_server: CivetWeb serving the files of a directory over HTTPS with the admin server's TLS
// set-up, the reference the admin API is measured against (bench/run_webadmin_benchmark.sh).
// Run by hand, never by ctest.
//   static_server --root DIR --cert PEM --key PEM --port N [--threads 4]
// Serves until SIGTERM or SIGINT.
#include <civetweb.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "webadmin/internal/tls_library.h"

int main(int argc, char** argv) {
  std::string root, cert, key, port = "0", threads = "4";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--root") root = argv[i + 1];
    if (flag == "--cert") cert = argv[i + 1];
    if (flag == "--key") key = argv[i + 1];
    if (flag == "--port") port = argv[i + 1];
    if (flag == "--threads") threads = argv[i + 1];
  }
  if (root.empty() || cert.empty() || key.empty()) {
    std::fputs("usage: static_server --root DIR --cert PEM --key PEM --port N\n", stderr);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (eds::Status s = eds::webadmin::internal::InitCivetWebTls(); !s.ok()) {
    std::fprintf(stderr, "static_server: %s\n", s.ToString().c_str());
    return 1;
  }
  // The certificate holds the key too for CivetWeb's own loader: pass a combined file.
  const std::string ports = "127.0.0.1:" + port + "s";
  const char* options[] = {"document_root",
                           root.c_str(),
                           "listening_ports",
                           ports.c_str(),
                           "ssl_certificate",
                           cert.c_str(),
                           "num_threads",
                           threads.c_str(),
                           "ssl_protocol_version",
                           "4",
                           "enable_keep_alive",
                           "yes",
                           "tcp_nodelay",
                           "1",
                           nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  if (ctx == nullptr) {
    std::fputs("static_server: CivetWeb did not start\n", stderr);
    return 1;
  }
  std::printf("static_server: serving %s on https://%s\n", root.c_str(), ports.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  mg_stop(ctx);
  return 0;
}
