// edsctl identity and edsctl sync: the node's key for enrolment, the outbox and why a release did
// not go, and a delivery run on demand.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace eds::cli {

int RunIdentity(const GlobalOptions& options, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fputs("usage: edsctl identity\n", stderr);
    return 2;
  }
  const auto r = Call(options, {{"cmd", "identity"}});
  if (!r) return 1;
  if (options.json) {
    std::printf("%s\n", r->dump(2).c_str());
    return 0;
  }
  std::printf("node id      %s\npublic key   %s\nfingerprint  %s\n",
              r->value("node_id", "").c_str(), r->value("public_key", "").c_str(),
              r->value("fingerprint", "").c_str());
  return 0;
}

int RunSync(const GlobalOptions& options, const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "status" && args[0] != "now")) {
    std::fputs(
        "usage: edsctl sync status   the outbox, the last delivery and the last failure\n"
        "       edsctl sync now      send the approved releases now\n",
        stderr);
    return 2;
  }
  const auto r = Call(options, {{"cmd", args[0] == "now" ? "sync-now" : "sync-status"}});
  if (!r) return 1;
  if (options.json) {
    std::printf("%s\n", r->dump(2).c_str());
    return 0;
  }
  if (args[0] == "now") {
    std::printf("%llu releases delivered\n",
                static_cast<unsigned long long>(r->value("delivered", 0ull)));
    return 0;
  }
  const auto text = [&](const char* key) {
    const std::string v = r->value(key, "");
    return v.empty() ? std::string("-") : v;
  };
  std::printf("sync            %s\n", r->value("enabled", false) ? "on" : "off (sync.enabled)");
  std::printf("node id         %s\n", text("node_id").c_str());
  std::printf("queued          %llu\n", static_cast<unsigned long long>(r->value("queued", 0ull)));
  std::printf("next run        %s\n", text("next_run_at").c_str());
  std::printf("last delivery   %s %s\n", text("last_delivery_at").c_str(),
              r->value("last_delivered", "").c_str());
  std::printf("delivered       %llu\n",
              static_cast<unsigned long long>(r->value("delivered_total", 0ull)));
  if (!r->value("last_error", "").empty()) {
    std::printf("last failure    %s (%llu in a row): %s\n", text("last_error_at").c_str(),
                static_cast<unsigned long long>(r->value("consecutive_failures", 0ull)),
                text("last_error").c_str());
  }
  for (const auto& q : (*r)["queue"]) {
    std::printf("  #%-6llu %-14s %-9s %llu bytes\n",
                static_cast<unsigned long long>(q.value("sequence", 0ull)),
                q.value("release", "").c_str(), q.value("period", "").c_str(),
                static_cast<unsigned long long>(q.value("bytes", 0ull)));
  }
  return 0;
}

}  // namespace eds::cli
