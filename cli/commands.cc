#include "cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/control_server.h"
#include "daemon/master_key.h"
#include "storage/store.h"

namespace eds::cli {

std::string SocketPath(const GlobalOptions& options) {
  if (!options.socket_path.empty()) return options.socket_path;
  auto config = daemon::LoadConfig(options.config_path);
  return config.ok() ? config->control.socket : daemon::ControlConfig().socket;
}

namespace {

std::string Human(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  } else if (bytes >= (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  }
  return buf;
}

void PrintHuman(const std::string& command, const nlohmann::json& r) {
  if (command == "status") {
    const auto& s = r["store"];
    std::printf("edsd %s, up %llds\n", r.value("version", "?").c_str(),
                static_cast<long long>(r.value("uptime_s", 0)));
    std::printf("store: %s at %s\n", s.value("state", "?").c_str(),
                s.value("data_dir", "?").c_str());
    std::printf("  records ~%llu, patients %llu, audit entries %llu, dictionary %u, disk %s\n",
                static_cast<unsigned long long>(s.value("records", 0ull)),
                static_cast<unsigned long long>(s.value("patients", 0ull)),
                static_cast<unsigned long long>(s.value("audit_entries", 0ull)),
                s.value("dictionary", 0u), Human(s.value("disk_bytes", 0ull)).c_str());
    std::printf("  master key id %s\n", s.value("master_key_id", "?").c_str());
  } else if (command == "verify") {
    const auto& a = r["audit"];
    const auto& rec = r["records"];
    if (a.value("intact", false)) {
      std::printf("audit log: intact, %llu entries\n",
                  static_cast<unsigned long long>(a.value("entries", 0ull)));
    } else {
      std::printf("audit log: BROKEN at entry %llu: %s (%llu entries intact before it)\n",
                  static_cast<unsigned long long>(a.value("first_broken", 0ull)),
                  a.value("reason", "").c_str(),
                  static_cast<unsigned long long>(a.value("entries", 0ull)));
    }
    std::printf("records: %llu checked, %llu failed\n",
                static_cast<unsigned long long>(rec.value("checked", 0ull)),
                static_cast<unsigned long long>(rec.value("failed", 0ull)));
  } else if (command == "backup") {
    std::printf("backup written to %s\n", r.value("path", "").c_str());
  } else if (command == "rotate-key") {
    std::printf("%s\nmaster key id %s\n", r.value("note", "").c_str(),
                r.value("master_key_id", "").c_str());
  }
}

}  // namespace

std::optional<nlohmann::json> Call(const GlobalOptions& options, const nlohmann::json& request) {
  auto response = daemon::ControlRequest(SocketPath(options), request);
  if (!response.ok()) {
    std::fprintf(stderr, "edsctl: %s\n", response.status().message().c_str());
    return std::nullopt;
  }
  if (!response->value("ok", false)) {
    std::fprintf(stderr, "edsctl: %s\n", response->value("error", "failed").c_str());
    return std::nullopt;
  }
  return std::move(response).value();
}

int RunOnline(const GlobalOptions& options, const std::string& command,
              const std::vector<std::string>& args) {
  nlohmann::json request = {{"cmd", command}};
  if (command == "backup") {
    if (args.size() != 1) {
      std::fputs("usage: edsctl backup DIR\n", stderr);
      return 2;
    }
    request["dir"] = std::filesystem::absolute(args[0]).string();
  } else if (command == "rotate-key") {
    if (args.size() == 2 && args[0] == "--new-key-file") {
      request["new_key_file"] = std::filesystem::absolute(args[1]).string();
    } else if (!args.empty()) {
      std::fputs("usage: edsctl rotate-key [--new-key-file FILE]\n", stderr);
      return 2;
    }
  } else if (!args.empty()) {
    std::fprintf(stderr, "edsctl %s takes no arguments\n", command.c_str());
    return 2;
  }
  auto response = daemon::ControlRequest(SocketPath(options), request);
  if (!response.ok()) {
    std::fprintf(stderr, "edsctl: %s\n", response.status().message().c_str());
    return 1;
  }
  const nlohmann::json& r = *response;
  if (options.json) {
    std::printf("%s\n", r.dump(2).c_str());
  } else if (r.value("ok", false) || command == "verify") {
    PrintHuman(command, r);
  }
  if (!r.value("ok", false)) {
    std::fprintf(stderr, "edsctl: %s\n", r.value("error", "failed").c_str());
    return 1;
  }
  return 0;
}

int RunToken(const GlobalOptions& options, const std::vector<std::string>& args) {
  nlohmann::json request;
  if (args.size() == 2 && (args[0] == "create" || args[0] == "revoke")) {
    request = {{"cmd", "token-" + args[0]}, {"name", args[1]}};
  } else if (args.size() == 1 && args[0] == "list") {
    request = {{"cmd", "token-list"}};
  } else {
    std::fputs("usage: edsctl token create NAME | token list | token revoke NAME\n", stderr);
    return 2;
  }
  const std::optional<nlohmann::json> response = Call(options, request);
  if (!response) return 1;
  const nlohmann::json& r = *response;
  if (options.json) {
    std::printf("%s\n", r.dump(2).c_str());
  } else if (args[0] == "create") {
    std::printf("%s\n(shown once: give it to the FHIR client as a bearer token)\n",
                r.value("token", "").c_str());
  } else if (args[0] == "list") {
    for (const auto& t : r["tokens"]) {
      std::printf(
          "%-24s created %s%s\n", t.value("name", "").c_str(), t.value("created", "").c_str(),
          t.value("revoked", "").empty() ? "" : (" revoked " + t.value("revoked", "")).c_str());
    }
  }
  return 0;
}

int RunPatientCommand(const GlobalOptions& options, const std::string& command,
                      const std::vector<std::string>& args) {
  nlohmann::json request;
  if (command == "erase" && args.size() == 1) {
    request = {{"cmd", "erase"}, {"identifier", args[0]}};
  } else if (command == "objection" && args.size() == 2 &&
             (args[0] == "add" || args[0] == "remove")) {
    request = {{"cmd", "objection-" + args[0]}, {"identifier", args[1]}};
  } else if (command == "objection" && args.size() == 1 && args[0] == "list") {
    request = {{"cmd", "objection-list"}};
  } else {
    std::fputs(
        "usage: edsctl erase SYSTEM|VALUE | objection add|remove SYSTEM|VALUE | objection list\n",
        stderr);
    return 2;
  }
  const std::optional<nlohmann::json> response = Call(options, request);
  if (!response) return 1;
  const nlohmann::json& r = *response;
  if (options.json) {
    std::printf("%s\n", r.dump(2).c_str());
  } else if (command == "erase") {
    std::printf("erased: %llu records; backups scrubbed: %zu; backups not reachable: %zu\n",
                static_cast<unsigned long long>(r.value("records_deleted", 0ull)),
                r["backups_scrubbed"].size(), r["backups_unreachable"].size());
    for (const auto& b : r["backups_unreachable"]) {
      std::printf("  not reachable (still holds the patient): %s\n", b.get<std::string>().c_str());
    }
  } else if (args[0] == "list") {
    for (const auto& o : r["objections"]) {
      std::printf("%s  since %s\n", o.value("identifier", "").c_str(),
                  o.value("added", "").c_str());
    }
  }
  return 0;
}

int RunRestore(const GlobalOptions& options, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs("usage: edsctl restore BACKUP_DIR   (edsd must be stopped)\n", stderr);
    return 2;
  }
  auto config = daemon::LoadConfig(options.config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "edsctl: %s\n", config.status().message().c_str());
    return 2;
  }
  auto moved = storage::RestoreBackup(args[0], config->storage.data_dir);
  if (!moved.ok()) {
    std::fprintf(stderr, "edsctl: restore failed: %s\n", moved.status().message().c_str());
    return 1;
  }
  if (!moved->empty()) std::printf("previous data dir kept at %s\n", moved->c_str());
  // Open the restored store to prove it is whole before anyone starts the daemon on it.
  auto key = daemon::LoadStoreMasterKey(config->storage);
  if (!key.ok()) {
    std::fprintf(stderr, "edsctl: restored, but cannot check it: %s\n",
                 key.status().message().c_str());
    return 1;
  }
  storage::StoreOptions store_options;
  store_options.data_dir = config->storage.data_dir;
  auto store = storage::Store::Open(store_options, std::move(key).value());
  if (!store.ok()) {
    std::fprintf(stderr, "edsctl: restored store does not open: %s\n",
                 store.status().message().c_str());
    return 1;
  }
  (*store)->Audit({"edsctl", "admin.restore", args[0], ""}).IgnoreError();
  auto audit = (*store)->VerifyAudit();
  auto records = (*store)->VerifyRecords();
  if (!audit.ok() || !records.ok() || !audit->intact || records->failed != 0) {
    std::fprintf(stderr, "edsctl: restored store fails verification\n");
    return 1;
  }
  std::printf("restored %s into %s: %llu records, audit log intact (%llu entries)\n",
              args[0].c_str(), config->storage.data_dir.c_str(),
              static_cast<unsigned long long>(records->records),
              static_cast<unsigned long long>(audit->entries));
  return 0;
}

}  // namespace eds::cli
