// edsctl: the local command line of an eds-node box.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

void Usage() {
  std::fputs(
      "usage: edsctl [--config FILE] [--socket PATH] [--json] COMMAND [ARGS]\n"
      "commands (edsd running):\n"
      "  status                         daemon and store state\n"
      "  backup DIR                     online, consistent backup into a new folder under DIR\n"
      "  verify                         check the audit chain and every record\n"
      "  rotate-key [--new-key-file F]  re-wrap every data key under a new master key\n"
      "  token create NAME              a FHIR bearer token (shown once)\n"
      "  token list | token revoke NAME\n"
      "  objection add|remove SYSTEM|VALUE, objection list   the patient's right to object\n"
      "  erase SYSTEM|VALUE             crypto-shred one patient (live store and backups)\n"
      "  import [--report FILE] [--chunk-bytes N] FILE...\n"
      "                                 FHIR Bulk NDJSON (.ndjson, .gz, .zst) into edsd; "
      "resumable\n"
      "  release compute PERIOD | list | show ID [--bundle]\n"
      "  release approve|reject ID --reviewer NAME --comment TEXT\n"
      "                                 aggregate releases and their review\n"
      "  identity                       the node's public key and fingerprint, for enrolment\n"
      "  sync status | sync now         the outbox of approved releases; send them now\n"
      "  update apply FILE | poll | status   signed updates (measure packs, firmware)\n"
      "  self-test                      the health check of a new firmware\n"
      "commands (edsd stopped):\n"
      "  restore BACKUP_DIR             replace the data dir with a backup (old dir kept)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  eds::cli::GlobalOptions options;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      options.config_path = argv[++i];
    } else if (arg == "--socket" && i + 1 < argc) {
      options.socket_path = argv[++i];
    } else if (arg == "--json") {
      options.json = true;
    } else {
      break;
    }
  }
  if (i >= argc) {
    Usage();
    return 2;
  }
  const std::string command = argv[i];
  const std::vector<std::string> args(argv + i + 1, argv + argc);
  if (command == "status" || command == "backup" || command == "verify" ||
      command == "rotate-key") {
    return eds::cli::RunOnline(options, command, args);
  }
  if (command == "restore") return eds::cli::RunRestore(options, args);
  if (command == "import") return eds::cli::RunImport(options, args);
  if (command == "token") return eds::cli::RunToken(options, args);
  if (command == "release") return eds::cli::RunRelease(options, args);
  if (command == "identity") return eds::cli::RunIdentity(options, args);
  if (command == "sync") return eds::cli::RunSync(options, args);
  if (command == "update") return eds::cli::RunUpdate(options, args);
  if (command == "self-test") return eds::cli::RunSelfTest(options, args);
  if (command == "objection" || command == "erase") {
    return eds::cli::RunPatientCommand(options, command, args);
  }
  Usage();
  return 2;
}
