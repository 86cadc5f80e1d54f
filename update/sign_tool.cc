#include "update/sign_tool.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "update/cli_args.h"
#include "update/repository.h"

namespace eds::update {
namespace {

Result<std::vector<SigningKey>> LoadKeys(const CliArgs& args, const std::string& flag) {
  std::vector<SigningKey> keys;
  for (const auto& file : args.All(flag)) {
    EDS_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKey(file));
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return InvalidArgumentError(flag + " is required");
  return keys;
}

Result<int64_t> Expires(const CliArgs& args) {
  const std::string days = args.OneOr("--expires-days", "365");
  char* end = nullptr;
  const long long n = std::strtoll(days.c_str(), &end, 10);
  if (end == days.c_str() || *end != '\0' || n < 1 || n > 36500) {
    return InvalidArgumentError("--expires-days must be a number of days");
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return now + n * 86400;
}

Status Run(const std::vector<std::string>& argv) {
  EDS_ASSIGN_OR_RETURN(CliArgs args, ParseCliArgs(argv));
  if (args.words.empty())
    return InvalidArgumentError("no command (keygen, init, add-target, rotate, bundle)");
  const std::string& command = args.words[0];
  if (command == "keygen") {
    if (args.words.size() != 2) return InvalidArgumentError("keygen takes KEYFILE");
    SigningKey key = GenerateSigningKey();
    EDS_RETURN_IF_ERROR(SaveSigningKey(args.words[1], key));
    std::printf("%s\n", key.keyid.c_str());
    return OkStatus();
  }
  EDS_ASSIGN_OR_RETURN(std::string repo, args.One("--repo"));
  if (command == "bundle") {
    EDS_ASSIGN_OR_RETURN(std::string out, args.One("--out"));
    return MakeRepositoryBundle(repo, out);
  }
  RepositoryKeys keys;
  EDS_ASSIGN_OR_RETURN(keys.targets, LoadKeys(args, "--targets-key"));
  EDS_ASSIGN_OR_RETURN(keys.snapshot, LoadKeys(args, "--snapshot-key"));
  EDS_ASSIGN_OR_RETURN(keys.timestamp, LoadKeys(args, "--timestamp-key"));
  EDS_ASSIGN_OR_RETURN(int64_t expires, Expires(args));
  if (command == "init") {
    EDS_ASSIGN_OR_RETURN(keys.root, LoadKeys(args, "--root-key"));
    return InitRepository(repo, keys, expires);
  }
  if (command == "rotate") {
    EDS_ASSIGN_OR_RETURN(keys.root, LoadKeys(args, "--root-key"));
    EDS_ASSIGN_OR_RETURN(std::vector<SigningKey> old_root, LoadKeys(args, "--old-root-key"));
    return RotateKeys(repo, old_root, keys, expires);
  }
  if (command == "add-target") {
    EDS_ASSIGN_OR_RETURN(std::string name, args.One("--name"));
    EDS_ASSIGN_OR_RETURN(std::string file, args.One("--file"));
    std::string custom;
    const std::string kind = args.OneOr("--kind", "");
    if (!kind.empty()) {
      EDS_ASSIGN_OR_RETURN(std::string version, args.One("--version"));
      custom = nlohmann::json{{"eds", {{"kind", kind}, {"version", version}}}}.dump();
    }
    return AddTarget(repo, keys, name, file, custom, expires);
  }
  return InvalidArgumentError("unknown command " + command);
}

}  // namespace

int RunSignTool(const std::vector<std::string>& args) {
  Status status = Run(args);
  if (!status.ok()) {
    std::fprintf(stderr, "eds-update-sign: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace eds::update
