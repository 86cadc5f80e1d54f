#include "update/updater.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "update/bundle.h"
#include "update/bundle_format.h"
#include "update/file_util.h"
#include "update/internal/canonical_json.h"
#include "update/pack_installer.h"
#include "update/tuf_client.h"
#include "update/version.h"

namespace eds::update {
namespace {

struct Item {
  TargetInfo target;
  ItemKind kind = ItemKind::kMeasurePack;
  std::string version;
};

// nullopt for targets that are not ours to install.
Result<std::optional<Item>> Classify(const TargetInfo& target) {
  if (target.custom_json.empty()) return std::optional<Item>();
  EDS_ASSIGN_OR_RETURN(nlohmann::json custom, internal::ParseJson(target.custom_json, "custom"));
  if (!custom.is_object() || !custom.contains("eds") || !custom["eds"].is_object()) {
    return std::optional<Item>();
  }
  const nlohmann::json& eds = custom["eds"];
  const std::string kind = eds.value("kind", "");
  Item item{target, ItemKind::kMeasurePack, eds.value("version", "")};
  if (kind == "firmware") {
    item.kind = ItemKind::kFirmware;
    EDS_ASSIGN_OR_RETURN(int ignored, CompareVersions(item.version, "0"));
    (void)ignored;
  } else if (kind != "measure-pack") {
    return InvalidArgumentError("target " + target.path + " has unknown kind '" + kind + "'");
  }
  return std::optional<Item>(std::move(item));
}

}  // namespace

Updater::Updater(MetadataStore& store, Fetcher* online, SlotInstaller& slots, HealthCheck& health,
                 const Clock& clock, UpdaterOptions options)
    : store_(store),
      online_(online),
      slots_(slots),
      health_(health),
      clock_(clock),
      options_(std::move(options)) {}

Result<UpdateReport> Updater::ApplyBundle(const std::filesystem::path& bundle) {
  EDS_ASSIGN_OR_RETURN(std::unique_ptr<BundleFetcher> fetcher, BundleFetcher::Open(bundle));
  return Apply(*fetcher, std::string(kBundleMetadataPrefix), std::string(kBundleTargetsPrefix));
}

Result<UpdateReport> Updater::Poll() {
  if (online_ == nullptr) return FailedPreconditionError("this box has no online update source");
  return Apply(*online_, options_.metadata_url, options_.targets_url);
}

Result<UpdateReport> Updater::Apply(Fetcher& fetcher, const std::string& metadata_url,
                                    const std::string& targets_url) {
  auto trusted = store_.Get("root");
  if (!trusted.ok() && trusted.status().code() == StatusCode::kNotFound &&
      !options_.shipped_root.empty()) {
    EDS_ASSIGN_OR_RETURN(std::string root, ReadFile(options_.shipped_root));
    EDS_RETURN_IF_ERROR(TufClient::InstallTrustedRoot(store_, root));
  }
  TufClient client(store_, fetcher, clock_, {metadata_url, targets_url});
  EDS_RETURN_IF_ERROR(client.Refresh());
  EDS_ASSIGN_OR_RETURN(std::vector<TargetInfo> targets, client.TopLevelTargets());
  UpdateReport report;
  report.targets_version = client.TargetsVersion();
  std::optional<Item> firmware;
  for (const auto& target : targets) {
    EDS_ASSIGN_OR_RETURN(std::optional<Item> item, Classify(target));
    if (!item) continue;
    if (item->kind == ItemKind::kFirmware) {
      if (firmware) {
        return InvalidArgumentError("update lists two firmware images: " + firmware->target.path +
                                    " and " + item->target.path);
      }
      firmware = std::move(item);
      continue;
    }
    EDS_ASSIGN_OR_RETURN(std::string bytes, client.DownloadTarget(item->target));
    EDS_ASSIGN_OR_RETURN(PackActivation pack, ActivatePack(options_.packs_dir, bytes));
    if (pack.changed) {
      report.installed.push_back({target.path, ItemKind::kMeasurePack, pack.version});
    } else {
      report.unchanged.push_back(target.path);
    }
  }
  if (firmware) {
    EDS_ASSIGN_OR_RETURN(SlotState state, slots_.State());
    // An installed version the slots do not know (a slot RAUC never wrote) is not a reason to
    // refuse; StageFirmware compares it the same way.
    if (!state.installed_version.empty()) {
      EDS_ASSIGN_OR_RETURN(int order, CompareVersions(firmware->version, state.installed_version));
      if (order == 0) {
        report.unchanged.push_back(firmware->target.path);
        return report;
      }
    }
    EDS_ASSIGN_OR_RETURN(std::string image, client.DownloadTarget(firmware->target));
    std::error_code ec;
    std::filesystem::create_directories(options_.download_dir, ec);
    const std::filesystem::path file = options_.download_dir / "firmware.img";
    EDS_RETURN_IF_ERROR(WriteFileAtomic(file, image));
    Status staged = StageFirmware(slots_, file, firmware->version);
    std::filesystem::remove(file, ec);
    EDS_RETURN_IF_ERROR(staged);
    report.installed.push_back({firmware->target.path, ItemKind::kFirmware, firmware->version});
  }
  return report;
}

}  // namespace eds::update
