// edsd: parses the command line and runs a Node; everything else lives in the daemon library.
#include <sodium.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common/log.h"
#include "daemon/config.h"
#include "daemon/journald_log.h"
#include "daemon/node.h"
#include "daemon/version.h"

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG: systemd shows it as a configuration error

void Usage() {
  std::fputs(
      "usage: edsd [--config FILE] [--check-config] [--version]\n"
      "  --config FILE    settings (TOML), default /etc/eds/edsd.toml\n"
      "  --check-config   validate the settings and exit\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  // Every record takes a fresh nonce: libsodium's in-process generator (seeded, and reseeded
  // after a fork, from the kernel) spares a getrandom() system call each. Before sodium_init().
  randombytes_set_implementation(&randombytes_internal_implementation);
  std::string config_path = "/etc/eds/edsd.toml";
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--version") {
      std::printf("edsd %s\n", eds::daemon::kVersion);
      return 0;
    } else {
      Usage();
      return 2;
    }
  }
  // Keys live in this process's memory: no core dumps, no ptrace by other users.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  eds::SetLogSink(eds::daemon::MakeDefaultLogSink());

  auto config = eds::daemon::LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "edsd: configuration error:\n%s\n", config.status().message().c_str());
    return kExitConfig;
  }
  if (check_only) {
    std::printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  eds::daemon::BlockSignals();
  auto node = eds::daemon::Node::Start(std::move(config).value(), config_path);
  if (!node.ok()) {
    eds::LogError("start-up failed: " + node.status().ToString());
    return 1;
  }
  return (*node)->Run();
}
