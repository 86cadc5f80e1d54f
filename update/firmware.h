// The firmware life cycle over a SlotInstaller:
//   StageFirmware  refuses a version not above the installed one, installs into the inactive
//                  slot and reboots into it;
//   ConfirmBoot    run at start-up: when the booted slot is pending, its health check decides
//                  between committing it and marking it bad and rebooting into the previous slot.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"
#include "update/health_check.h"
#include "update/slot_installer.h"

namespace eds::update {

// kFailedPrecondition ("refusing ...") when `version` is lower than or equal to the installed one.
Status StageFirmware(SlotInstaller& slots, const std::filesystem::path& image,
                     const std::string& version);

enum class BootOutcome {
  kNothingPending,  // the booted slot was already committed
  kCommitted,       // the new slot passed its health check
  kRolledBack,      // it failed; the previous slot is booted again
};

struct BootConfirmation {
  BootOutcome outcome = BootOutcome::kNothingPending;
  std::string slot;     // the slot booted afterwards
  std::string version;  // the committed firmware version afterwards
  std::string reason;   // why it rolled back
};

Result<BootConfirmation> ConfirmBoot(SlotInstaller& slots, HealthCheck& health);

}  // namespace eds::update
