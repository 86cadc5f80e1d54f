// Updater: the module's facade for the daemon and edsctl. ApplyBundle() and Poll() verify an
// update through TufClient (the same checks for an offline bundle and an online repository) and
// install what the verified targets metadata lists. Targets say what they are in their custom
// metadata: {"eds": {"kind": "measure-pack" | "firmware", "version": "1.2.0"}}; others are left
// alone. Measure packs are activated at once; firmware goes to the inactive slot and the box
// reboots into it, and ConfirmBoot() (at start-up) commits it or rolls back after the health
// check. The report names what was installed. Everything borrowed must outlive the Updater.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "update/fetcher.h"
#include "update/firmware.h"
#include "update/health_check.h"
#include "update/metadata_store.h"
#include "update/slot_installer.h"

namespace eds::update {

struct UpdaterOptions {
  std::string metadata_url;  // online repository, for Poll()
  std::string targets_url;
  std::filesystem::path packs_dir;     // where measure packs are activated
  std::filesystem::path download_dir;  // where a firmware image waits for the slot installer
  // The root that ships with the image; installed as the trusted root when the store has none.
  std::filesystem::path shipped_root;
};

enum class ItemKind { kMeasurePack, kFirmware };

struct InstalledItem {
  std::string target;  // the TUF target path
  ItemKind kind = ItemKind::kMeasurePack;
  std::string version;
};

struct UpdateReport {
  int64_t targets_version = 0;           // version of the verified targets metadata
  std::vector<InstalledItem> installed;  // what changed
  std::vector<std::string> unchanged;    // targets already installed at that version
};

class Updater {
 public:
  // `online` may be null when the box is never online (Poll() then fails).
  Updater(MetadataStore& store, Fetcher* online, SlotInstaller& slots, HealthCheck& health,
          const Clock& clock, UpdaterOptions options);
  Updater(const Updater&) = delete;
  Updater& operator=(const Updater&) = delete;

  Result<UpdateReport> ApplyBundle(const std::filesystem::path& bundle);
  Result<UpdateReport> Poll();
  Result<BootConfirmation> ConfirmBoot() { return update::ConfirmBoot(slots_, health_); }

 private:
  Result<UpdateReport> Apply(Fetcher& fetcher, const std::string& metadata_url,
                             const std::string& targets_url);

  MetadataStore& store_;
  Fetcher* online_;
  SlotInstaller& slots_;
  HealthCheck& health_;
  const Clock& clock_;
  UpdaterOptions options_;
};

}  // namespace eds::update
