// edsctl subcommands. Online ones talk to the running edsd over its control socket; restore works
// offline on a stopped data dir. Each returns the process exit code and prints to stdout/stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace eds::cli {

struct GlobalOptions {
  std::string config_path = "/etc/eds/edsd.toml";
  std::string socket_path;  // overrides control.socket of the config
  bool json = false;        // print the daemon's JSON answer as is
};

// The control socket: --socket, else control.socket of the config.
std::string SocketPath(const GlobalOptions& options);

int RunOnline(const GlobalOptions& options, const std::string& command,
              const std::vector<std::string>& args);
int RunRestore(const GlobalOptions& options, const std::vector<std::string>& args);
int RunToken(const GlobalOptions& options, const std::vector<std::string>& args);
int RunRelease(const GlobalOptions& options, const std::vector<std::string>& args);
int RunIdentity(const GlobalOptions& options, const std::vector<std::string>& args);
int RunSync(const GlobalOptions& options, const std::vector<std::string>& args);
int RunUpdate(const GlobalOptions& options, const std::vector<std::string>& args);
int RunSelfTest(const GlobalOptions& options, const std::vector<std::string>& args);
// Sends `request` over the control socket; prints the failure and returns nullopt unless the
// daemon answered ok.
std::optional<nlohmann::json> Call(const GlobalOptions& options, const nlohmann::json& request);
int RunPatientCommand(const GlobalOptions& options, const std::string& command,
                      const std::vector<std::string>& args);
// edsctl import [--report FILE] [--chunk-bytes N] FILE...: 0 when every line was stored or a
// duplicate, 1 when some were rejected, 2 for a usage error, 3 when the daemon is unreachable
// or refused, or a file cannot be read.
int RunImport(const GlobalOptions& options, const std::vector<std::string>& args);

}  // namespace eds::cli
