#include "update/conformance_client.h"

#include <time.h>

#include <cstdio>

#include "common/clock.h"
#include "common/status_macros.h"
#include "update/cli_args.h"
#include "update/file_util.h"
#include "update/http_fetcher.h"
#include "update/metadata_store.h"
#include "update/tuf_client.h"

namespace eds::update {
namespace {

// Reads the time through libc's clock_gettime on every call, so that libfaketime (which
// interposes it) moves this client's clock, as conformance runs with expired metadata need.
class LibcClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

Status Init(const CliArgs& args, DirectoryMetadataStore& store) {
  if (args.words.size() != 2) return InvalidArgumentError("init takes TRUSTED_ROOT_FILE");
  EDS_ASSIGN_OR_RETURN(std::string root, ReadFile(args.words[1]));
  return TufClient::InstallTrustedRoot(store, root);
}

Status Download(const CliArgs& args, TufClient& client) {
  EDS_ASSIGN_OR_RETURN(std::string target_dir, args.One("--target-dir"));
  EDS_RETURN_IF_ERROR(args.One("--target-base-url").status());
  const std::vector<std::string> names = args.All("--target-name");
  if (names.empty()) return InvalidArgumentError("--target-name is required");
  EDS_RETURN_IF_ERROR(client.Refresh());
  for (const auto& name : names) {
    EDS_ASSIGN_OR_RETURN(TargetInfo info, client.GetTargetInfo(name));
    const std::filesystem::path file = std::filesystem::path(target_dir) / EncodeFileName(name);
    auto cached = ReadFile(file);
    if (cached.ok() && TufClient::VerifyTarget(info, *cached).ok()) continue;
    EDS_ASSIGN_OR_RETURN(std::string data, client.DownloadTarget(info));
    std::error_code ec;
    std::filesystem::create_directories(target_dir, ec);
    EDS_RETURN_IF_ERROR(WriteFileAtomic(file, data));
  }
  return OkStatus();
}

Status Run(const std::vector<std::string>& argv) {
  EDS_ASSIGN_OR_RETURN(CliArgs args, ParseCliArgs(argv));
  if (args.words.empty()) return InvalidArgumentError("no command (init, refresh or download)");
  EDS_ASSIGN_OR_RETURN(std::string metadata_dir, args.One("--metadata-dir"));
  DirectoryMetadataStore store(metadata_dir);
  const std::string& command = args.words[0];
  if (command == "init") return Init(args, store);
  if (command != "refresh" && command != "download") {
    return InvalidArgumentError("unknown command " + command);
  }
  if (args.words.size() != 1) return InvalidArgumentError(command + " takes no arguments");
  EDS_ASSIGN_OR_RETURN(std::string metadata_url, args.One("--metadata-url"));
  HttpFetcher fetcher;
  TufClientOptions options;
  options.metadata_base_url = metadata_url;
  options.targets_base_url = args.OneOr("--target-base-url", "");
  LibcClock clock;
  TufClient client(store, fetcher, clock, options);
  if (command == "refresh") return client.Refresh();
  return Download(args, client);
}

}  // namespace

int RunConformanceClient(const std::vector<std::string>& args) {
  Status status = Run(args);
  if (!status.ok()) {
    std::fprintf(stderr, "eds-tuf-client: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace eds::update
