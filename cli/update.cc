// edsctl update and edsctl self-test: offline bundles and the online repository through the
// running edsd (which verifies them), what is trusted and installed, and the health check a new
// firmware must pass.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace eds::cli {
namespace {

void UpdateUsage() {
  std::fputs(
      "usage: edsctl update apply FILE   verify an offline update bundle and install it\n"
      "       edsctl update poll         check the operator's repository now\n"
      "       edsctl update status       trusted metadata, firmware slots, the last result\n",
      stderr);
}

}  // namespace

int RunUpdate(const GlobalOptions& options, const std::vector<std::string>& args) {
  nlohmann::json request;
  if (args.size() == 2 && args[0] == "apply") {
    std::error_code ec;
    const auto path = std::filesystem::absolute(args[1], ec);
    request = {{"cmd", "update-apply"}, {"file", path.string()}};
  } else if (args.size() == 1 && (args[0] == "poll" || args[0] == "status")) {
    request = {{"cmd", "update-" + args[0]}};
  } else {
    UpdateUsage();
    return 2;
  }
  const auto r = Call(options, request);
  if (!r) return 1;
  if (options.json) {
    std::printf("%s\n", r->dump(2).c_str());
    return 0;
  }
  if (args[0] == "status") {
    const auto& t = (*r)["trusted"];
    std::printf("trusted metadata  root v%lld, timestamp v%lld, snapshot v%lld, targets v%lld\n",
                t.value("root", 0ll), t.value("timestamp", 0ll), t.value("snapshot", 0ll),
                t.value("targets", 0ll));
    const auto& s = (*r)["slots"];
    if (s.contains("error")) {
      std::printf("firmware slots    unreadable: %s\n", s.value("error", "").c_str());
    } else {
      std::printf("firmware slots    booted %s, committed %s, pending %s, version %s\n",
                  s.value("booted", "").c_str(), s.value("committed", "").c_str(),
                  s.value("pending", "").empty() ? "-" : s.value("pending", "").c_str(),
                  s.value("installed_version", "").c_str());
    }
    const auto& l = (*r)["last"];
    std::printf("last update       %s %s: %s\n", l.value("at", "-").c_str(),
                l.value("source", "").c_str(), l.value("result", "").c_str());
    return 0;
  }
  for (const auto& item : (*r)["installed"]) {
    std::printf("installed %s %s (%s)\n", item.value("target", "").c_str(),
                item.value("version", "").c_str(), item.value("kind", "").c_str());
  }
  for (const auto& name : (*r)["unchanged"]) {
    std::printf("already installed %s\n", name.get<std::string>().c_str());
  }
  std::printf("verified targets metadata v%lld\n", r->value("targets_version", 0ll));
  return 0;
}

int RunSelfTest(const GlobalOptions& options, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fputs(
        "usage: edsctl self-test   exit 0 when edsd runs, its store writes and reads, and "
        "its key signs\n",
        stderr);
    return 2;
  }
  const auto r = Call(options, {{"cmd", "self-test"}});
  if (!r) return 1;
  std::printf("self-test passed\n");
  return 0;
}

}  // namespace eds::cli
