// The RAUC back-end. RAUC writes the inactive slot, switches the boot loader's primary slot and
// keeps boot counters; it has no notion of "awaiting a health check", so the installer keeps the
// pending slot's boot name in a marker file of its own. A pending slot that the boot loader no
// longer boots (RAUC's boot_status "bad": marked bad by a failed health check, or its tries used
// up) is not pending any more. `rauc status --detailed` is what names the installed versions.
#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "update/file_util.h"
#include "update/internal/canonical_json.h"
#include "update/slot_installer.h"

namespace eds::update {
namespace {

using nlohmann::json;

// A string member of `obj`, or "" when it is missing, null or not a string: rauc status gives
// null for what a slot does not have (a child slot's bootname, a slot's mount point, ...).
std::string StringOf(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// `rauc status --output-format=json` prints the document last, on stdout; the runner gives stdout
// and stderr together, where the client first logs lines such as "rauc-Message: ... Using central
// status file ...". The document starts at the first line that starts with '{'.
Result<json> ParseStatus(std::string_view output) {
  size_t start = 0;
  while (start < output.size() && output[start] != '{') {
    const size_t end = output.find('\n', start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return internal::ParseJson(start < output.size() ? output.substr(start) : output, "rauc status");
}

class RaucSlotInstaller final : public SlotInstaller {
 public:
  RaucSlotInstaller(CommandRunner& runner, RaucSlotOptions options)
      : runner_(runner), options_(std::move(options)) {}

  Result<SlotState> State() override {
    EDS_ASSIGN_OR_RETURN(std::string out, Rauc({"status", "--detailed", "--output-format=json"}));
    EDS_ASSIGN_OR_RETURN(json doc, ParseStatus(out));
    SlotState state;
    if (!doc.is_object() || !doc.contains("slots") || !doc["slots"].is_array()) {
      return InternalError("rauc status output has no slots");
    }
    state.booted = StringOf(doc, "booted");
    state.committed = state.booted;
    state.boot_attempts_left = -1;
    auto marker = ReadFile(MarkerPath());
    if (marker.ok()) state.pending = *marker;
    bool pending_bad = false;
    for (const auto& entry : doc["slots"]) {
      if (!entry.is_object()) continue;
      for (const auto& [name, slot] : entry.items()) {
        if (!slot.is_object()) continue;
        const std::string bootname = StringOf(slot, "bootname");
        if (!state.pending.empty() && bootname == state.pending &&
            StringOf(slot, "boot_status") == "bad") {
          pending_bad = true;
        }
        if (bootname != state.booted) continue;
        if (slot.contains("slot_status") && slot["slot_status"].is_object() &&
            slot["slot_status"].contains("bundle") && slot["slot_status"]["bundle"].is_object()) {
          state.installed_version = StringOf(slot["slot_status"]["bundle"], "version");
        }
      }
    }
    if (pending_bad) state.pending.clear();
    if (!state.pending.empty() && state.pending == state.booted) state.committed.clear();
    return state;
  }

  Status Install(const std::filesystem::path& image, const std::string& version) override {
    EDS_ASSIGN_OR_RETURN(std::string out, Rauc({"install", image.string()}));
    // After `rauc install` the boot loader's primary is the freshly written slot.
    EDS_ASSIGN_OR_RETURN(std::string primary, Rauc({"status", "--output-format=json"}));
    EDS_ASSIGN_OR_RETURN(json doc, ParseStatus(primary));
    const std::string boot_primary = StringOf(doc, "boot_primary");
    std::string bootname;
    if (doc.is_object() && doc.contains("slots") && doc["slots"].is_array()) {
      for (const auto& entry : doc["slots"]) {
        if (entry.is_object() && entry.contains(boot_primary) && entry[boot_primary].is_object()) {
          bootname = StringOf(entry[boot_primary], "bootname");
        }
      }
    }
    if (bootname.empty()) return InternalError("rauc status names no primary boot slot");
    (void)version;  // RAUC records the bundle's version itself
    return WriteFileAtomic(MarkerPath(), bootname);
  }

  Status Reboot() override {
    auto run = runner_.Run(options_.reboot_command, options_.timeout);
    if (!run.ok()) return run.status();
    if (run->exit_code != 0) return UnavailableError("reboot failed: " + run->output);
    return OkStatus();
  }

  Status MarkGood() override {
    EDS_ASSIGN_OR_RETURN(std::string out, Rauc({"status", "mark-good", "booted"}));
    return ClearMarker();
  }

  Status MarkBad() override {
    EDS_ASSIGN_OR_RETURN(std::string out, Rauc({"status", "mark-bad", "booted"}));
    return ClearMarker();
  }

 private:
  std::filesystem::path MarkerPath() const { return options_.state_dir / "rauc-pending-slot"; }

  Status ClearMarker() {
    std::error_code ec;
    std::filesystem::remove(MarkerPath(), ec);
    if (ec) return UnavailableError("cannot remove " + MarkerPath().string());
    return SyncDirectory(options_.state_dir);
  }

  Result<std::string> Rauc(std::vector<std::string> args) {
    args.insert(args.begin(), options_.rauc);
    auto run = runner_.Run(args, options_.timeout);
    if (!run.ok()) return run.status();
    if (run->exit_code != 0) {
      std::string line;
      for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
      return UnavailableError("`" + line + "` failed with exit code " +
                              std::to_string(run->exit_code) + ": " + run->output);
    }
    return std::move(run->output);
  }

  CommandRunner& runner_;
  RaucSlotOptions options_;
};

}  // namespace

std::unique_ptr<SlotInstaller> MakeRaucSlotInstaller(CommandRunner& runner,
                                                     RaucSlotOptions options) {
  return std::make_unique<RaucSlotInstaller>(runner, std::move(options));
}

}  // namespace eds::update
