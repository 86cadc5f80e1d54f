// SlotInstaller: writes firmware into the inactive slot of an A/B pair and moves the boot between
// slots. The booted slot is never written. A freshly installed slot is "pending": it boots a
// bounded number of times until it is marked good (committed) after a health check, or marked
// bad, after which the committed slot boots again. Back-ends:
//   directory (development and tests): slots are directories A and B next to a state file;
//     Reboot() plays the boot loader's part, boot counter included.
//   RAUC (the appliance): `rauc install`, `rauc status mark-good|mark-bad`, and a reboot command.
// Implementations are not thread-safe; one installer per box.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "update/command_runner.h"

namespace eds::update {

struct SlotState {
  std::string booted;             // the slot running now
  std::string committed;          // the last slot that passed its health check
  std::string pending;            // installed, not yet committed; "" when none
  int boot_attempts_left = 0;     // boots the pending slot still gets (-1: the boot loader knows)
  std::string installed_version;  // the committed slot's firmware version
};

class SlotInstaller {
 public:
  virtual ~SlotInstaller() = default;
  virtual Result<SlotState> State() = 0;
  // Writes `image` into the slot not booted and makes it pending for the next boot.
  virtual Status Install(const std::filesystem::path& image, const std::string& version) = 0;
  // Boots again: into the pending slot while it has boot attempts left, else the committed one.
  virtual Status Reboot() = 0;
  // The booted pending slot passed its health check: it becomes the committed slot.
  virtual Status MarkGood() = 0;
  // The booted pending slot failed: it is no longer pending (the next boot leaves it).
  virtual Status MarkBad() = 0;
};

// Forwards every call, so a test can override one (fault injection) and keep the rest.
class SlotInstallerWrapper : public SlotInstaller {
 public:
  explicit SlotInstallerWrapper(SlotInstaller& target) : target_(target) {}
  Result<SlotState> State() override { return target_.State(); }
  Status Install(const std::filesystem::path& image, const std::string& version) override {
    return target_.Install(image, version);
  }
  Status Reboot() override { return target_.Reboot(); }
  Status MarkGood() override { return target_.MarkGood(); }
  Status MarkBad() override { return target_.MarkBad(); }

 private:
  SlotInstaller& target_;
};

struct DirectorySlotOptions {
  std::filesystem::path dir;  // holds A/, B/ and state.json
  // The version slot A is taken to hold when `dir` has no state yet.
  std::string initial_version = "0.0.0";
  int boot_attempts = 3;
  // Called after each chunk of the image is written (bytes so far); tests use it to cut power.
  std::function<void(uint64_t)> after_chunk_for_test;
};
std::unique_ptr<SlotInstaller> MakeDirectorySlotInstaller(DirectorySlotOptions options);

struct RaucSlotOptions {
  std::string rauc = "rauc";
  std::vector<std::string> reboot_command = {"systemctl", "reboot"};
  // Where the installer remembers which slot awaits its health check (RAUC has no such state).
  std::filesystem::path state_dir;
  std::chrono::milliseconds timeout = std::chrono::minutes(30);
};
// `runner` must outlive the installer.
std::unique_ptr<SlotInstaller> MakeRaucSlotInstaller(CommandRunner& runner,
                                                     RaucSlotOptions options);

}  // namespace eds::update
