#include "update/firmware.h"

#include "common/status_macros.h"
#include "update/version.h"

namespace eds::update {

Status StageFirmware(SlotInstaller& slots, const std::filesystem::path& image,
                     const std::string& version) {
  EDS_ASSIGN_OR_RETURN(SlotState state, slots.State());
  if (!state.installed_version.empty()) {
    EDS_ASSIGN_OR_RETURN(int order, CompareVersions(version, state.installed_version));
    if (order <= 0) {
      return FailedPreconditionError("refusing firmware " + version + ": version " +
                                     state.installed_version + " is installed and updates " +
                                     "never go back or sideways");
    }
  }
  EDS_RETURN_IF_ERROR(slots.Install(image, version));
  return slots.Reboot();
}

Result<BootConfirmation> ConfirmBoot(SlotInstaller& slots, HealthCheck& health) {
  EDS_ASSIGN_OR_RETURN(SlotState state, slots.State());
  BootConfirmation result;
  if (state.pending.empty() || state.pending != state.booted) {
    result.slot = state.booted;
    result.version = state.installed_version;
    return result;
  }
  Status healthy = health.Check();
  if (healthy.ok()) {
    EDS_RETURN_IF_ERROR(slots.MarkGood());
    result.outcome = BootOutcome::kCommitted;
  } else {
    EDS_RETURN_IF_ERROR(slots.MarkBad());
    EDS_RETURN_IF_ERROR(slots.Reboot());
    result.outcome = BootOutcome::kRolledBack;
    result.reason = healthy.message();
  }
  EDS_ASSIGN_OR_RETURN(SlotState after, slots.State());
  result.slot = after.booted;
  result.version = after.installed_version;
  return result;
}

}  // namespace eds::update
