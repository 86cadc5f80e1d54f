// edsctl release: compute a release for a period, list and show releases, and record a
// reviewer's approval or rejection with its comment.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace eds::cli {
namespace {

void ReleaseUsage() {
  std::fputs(
      "usage: edsctl release compute PERIOD          (YYYY-MM or YYYY-Www)\n"
      "       edsctl release list\n"
      "       edsctl release show ID [--bundle]\n"
      "       edsctl release approve|reject ID --reviewer NAME --comment TEXT\n",
      stderr);
}

}  // namespace

int RunRelease(const GlobalOptions& options, const std::vector<std::string>& args) {
  if (args.empty()) {
    ReleaseUsage();
    return 2;
  }
  const std::string& sub = args[0];
  nlohmann::json request;
  bool show_bundle = false;
  if (sub == "compute" && args.size() == 2) {
    request = {{"cmd", "release-compute"}, {"period", args[1]}};
  } else if (sub == "list" && args.size() == 1) {
    request = {{"cmd", "release-list"}};
  } else if (sub == "show" && (args.size() == 2 || (args.size() == 3 && args[2] == "--bundle"))) {
    request = {{"cmd", "release-show"}, {"id", args[1]}};
    show_bundle = args.size() == 3;
  } else if ((sub == "approve" || sub == "reject") && args.size() == 6) {
    request = {{"cmd", "release-" + sub}, {"id", args[1]}};
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      if (args[i] == "--reviewer") {
        request["reviewer"] = args[i + 1];
      } else if (args[i] == "--comment") {
        request["comment"] = args[i + 1];
      } else {
        ReleaseUsage();
        return 2;
      }
    }
  } else {
    ReleaseUsage();
    return 2;
  }
  const std::optional<nlohmann::json> response = Call(options, request);
  if (!response) return 1;
  const nlohmann::json& r = *response;
  if (options.json) {
    std::printf("%s\n", r.dump(2).c_str());
    return 0;
  }
  if (sub == "compute") {
    std::printf("release %s for %s: %s (%zu disclosure decisions)%s%s\n", r.value("id", "").c_str(),
                r.value("period", "").c_str(), r.value("state", "").c_str(),
                r.value("decisions", size_t{0}), r.value("note", "").empty() ? "" : "; ",
                r.value("note", "").c_str());
  } else if (sub == "list") {
    for (const auto& e : r["releases"]) {
      std::printf("%-14s %-9s %-10s %s\n", e.value("id", "").c_str(), e.value("period", "").c_str(),
                  e.value("state", "").c_str(), e.value("updated", "").c_str());
    }
  } else if (sub == "show" && show_bundle) {
    std::printf("%s\n", r.value("bundle", "").c_str());
  } else if (sub == "show") {
    std::printf("release %s  period %s  state %s  k %llu\n", r.value("id", "").c_str(),
                r.value("period", "").c_str(), r.value("state", "").c_str(),
                static_cast<unsigned long long>(r.value("k", 0ull)));
    for (const auto& h : r["history"]) {
      std::printf("  %s  %-9s by %s%s%s\n", h.value("at", "").c_str(), h.value("state", "").c_str(),
                  h.value("actor", "").c_str(), h.value("comment", "").empty() ? "" : ": ",
                  h.value("comment", "").c_str());
    }
    std::printf("disclosure decisions:\n");
    for (const auto& d : r["disclosure"]) {
      std::string values;
      for (const auto& v : d["values"])
        values += (values.empty() ? "" : ",") + v.get<std::string>();
      std::printf("  %-12s %s %s [%s]: %s\n", d.value("rule", "").c_str(),
                  d.value("measure", "").c_str(), d.value("stratifier", "").c_str(), values.c_str(),
                  d.value("reason", "").c_str());
    }
  } else {
    std::printf("release %s %s\n", args[1].c_str(), sub == "approve" ? "approved" : "rejected");
  }
  return 0;
}

}  // namespace eds::cli
