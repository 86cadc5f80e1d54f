// The facade end to end: a repository made by the signing side, applied as an offline bundle or
// polled from a directory, into a packs directory and a directory slot pair.
#include "update/updater.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "update/file_fetcher.h"
#include "update/file_util.h"
#include "update/repository.h"
#include "update/tuf_client.h"

namespace eds::update {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::SourcePath;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

int64_t InAYear() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() +
         365 * 86400;
}

class UpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.root = {GenerateSigningKey()};
    keys_.targets = {GenerateSigningKey()};
    keys_.snapshot = {GenerateSigningKey()};
    keys_.timestamp = {GenerateSigningKey()};
    ASSERT_THAT(InitRepository(repo_, keys_, InAYear()), IsOk());
    ASSERT_THAT(
        AddTarget(repo_, keys_, "packs/eds-default.json", SourcePath("packs/eds-default.json"),
                  R"({"eds":{"kind":"measure-pack","version":"1.0.0"}})", InAYear()),
        IsOk());
    ASSERT_THAT(WriteFileAtomic(dir_.path() / "fw.img", "system 2.0.0"), IsOk());
    ASSERT_THAT(AddTarget(repo_, keys_, "firmware/eds.img", dir_.path() / "fw.img",
                          R"({"eds":{"kind":"firmware","version":"2.0.0"}})", InAYear()),
                IsOk());
    // The root that ships with the image.
    ASSERT_THAT(TufClient::InstallTrustedRoot(store_, *ReadFile(repo_ / "metadata/1.root.json")),
                IsOk());
    const fs::path script = dir_.path() / "self-test.sh";
    ASSERT_THAT(WriteFileAtomic(script, "#!/bin/sh\nexit 0\n"), IsOk());
    ::chmod(script.c_str(), 0755);
    health_ = std::make_unique<HealthCheck>(runner_, HealthCheckOptions{{script.string()}});
  }

  Updater MakeUpdater(SlotInstaller& slots) {
    UpdaterOptions options;
    options.metadata_url = (repo_ / "metadata").string();
    options.targets_url = (repo_ / "targets").string();
    options.packs_dir = packs_;
    options.download_dir = dir_.path() / "download";
    return Updater(store_, &online_, slots, *health_, SystemClock::Get(), options);
  }

  std::unique_ptr<SlotInstaller> Slots(const std::string& installed) {
    DirectorySlotOptions options;
    options.dir = dir_.path() / "slots";
    options.initial_version = installed;
    return MakeDirectorySlotInstaller(options);
  }

  fs::path Bundle() {
    const fs::path bundle = dir_.path() / "update.bundle";
    EXPECT_THAT(MakeRepositoryBundle(repo_, bundle), IsOk());
    return bundle;
  }

  TempDir dir_;
  fs::path repo_ = dir_.path() / "repo";
  fs::path packs_ = dir_.path() / "packs";
  RepositoryKeys keys_;
  MemoryMetadataStore store_;
  FileFetcher online_;
  ProcessRunner runner_;
  std::unique_ptr<HealthCheck> health_;
};

TEST_F(UpdaterTest, AppliesABundleAndNamesWhatItInstalled) {
  auto slots = Slots("1.0.0");
  Updater updater = MakeUpdater(*slots);
  auto report = updater.ApplyBundle(Bundle());
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->targets_version, 3);
  ASSERT_EQ(report->installed.size(), 2u);
  EXPECT_EQ(report->installed[0].target, "packs/eds-default.json");
  EXPECT_EQ(report->installed[0].kind, ItemKind::kMeasurePack);
  EXPECT_EQ(report->installed[0].version, "1.0.0");
  EXPECT_EQ(report->installed[1].target, "firmware/eds.img");
  EXPECT_EQ(report->installed[1].kind, ItemKind::kFirmware);
  EXPECT_EQ(*ReadFile(packs_ / "eds-default.json"),
            *ReadFile(SourcePath("packs/eds-default.json")));
  EXPECT_EQ(*ReadFile(dir_.path() / "slots/B/image"), "system 2.0.0");

  auto boot = updater.ConfirmBoot();
  ASSERT_THAT(boot, IsOk());
  EXPECT_EQ(boot->outcome, BootOutcome::kCommitted);
  EXPECT_EQ(boot->version, "2.0.0");

  // The same update again changes nothing.
  auto again = updater.ApplyBundle(Bundle());
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->installed.empty());
  EXPECT_EQ(again->unchanged.size(), 2u);
}

TEST_F(UpdaterTest, PollsTheOnlineRepository) {
  auto slots = Slots("2.0.0");
  Updater updater = MakeUpdater(*slots);
  auto report = updater.Poll();
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->installed.size(), 1u);
  EXPECT_EQ(report->installed[0].kind, ItemKind::kMeasurePack);
  EXPECT_EQ(report->unchanged, std::vector<std::string>{"firmware/eds.img"});
}

TEST_F(UpdaterTest, StartsFromTheShippedRootOnAFreshBox) {
  MemoryMetadataStore fresh;
  auto slots = Slots("2.0.0");
  UpdaterOptions options;
  options.packs_dir = packs_;
  options.download_dir = dir_.path() / "download";
  Updater without_root(fresh, nullptr, *slots, *health_, SystemClock::Get(), options);
  EXPECT_THAT(without_root.ApplyBundle(Bundle()), StatusIs(StatusCode::kFailedPrecondition));
  options.shipped_root = repo_ / "metadata/1.root.json";
  Updater updater(fresh, nullptr, *slots, *health_, SystemClock::Get(), options);
  auto report = updater.ApplyBundle(Bundle());
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->installed.size(), 1u);
  EXPECT_THAT(updater.Poll(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(UpdaterTest, RefusesFirmwareOlderThanTheInstalledOne) {
  auto slots = Slots("3.0.0");
  Updater updater = MakeUpdater(*slots);
  auto report = updater.ApplyBundle(Bundle());
  EXPECT_THAT(report, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(report.status().message(),
              HasSubstr("refusing firmware 2.0.0: version 3.0.0 is installed"));
  EXPECT_FALSE(fs::exists(dir_.path() / "slots/B"));
  EXPECT_EQ(slots->State()->booted, "A");
}

TEST_F(UpdaterTest, ATamperedBundleInstallsNothing) {
  fs::path bundle = Bundle();
  std::string bytes = *ReadFile(bundle);
  const size_t at = bytes.find("system 2.0.0");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'S';
  ASSERT_THAT(WriteFileAtomic(bundle, bytes), IsOk());
  auto slots = Slots("1.0.0");
  Updater updater = MakeUpdater(*slots);
  auto report = updater.ApplyBundle(bundle);
  EXPECT_THAT(report, StatusIs(StatusCode::kDataLoss));
  EXPECT_FALSE(fs::exists(dir_.path() / "slots/B"));
}

TEST_F(UpdaterTest, ABundleSignedWithOtherKeysIsRefused) {
  RepositoryKeys other = keys_;
  other.root = {GenerateSigningKey()};
  other.targets = {GenerateSigningKey()};
  const fs::path other_repo = dir_.path() / "other";
  ASSERT_THAT(InitRepository(other_repo, other, InAYear()), IsOk());
  ASSERT_THAT(
      AddTarget(other_repo, other, "packs/eds-default.json", SourcePath("packs/eds-default.json"),
                R"({"eds":{"kind":"measure-pack","version":"1.0.0"}})", InAYear()),
      IsOk());
  ASSERT_THAT(MakeRepositoryBundle(other_repo, dir_.path() / "other.bundle"), IsOk());
  auto slots = Slots("1.0.0");
  Updater updater = MakeUpdater(*slots);
  EXPECT_THAT(updater.ApplyBundle(dir_.path() / "other.bundle"),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_FALSE(fs::exists(packs_ / "eds-default.json"));
}

}  // namespace
}  // namespace eds::update
