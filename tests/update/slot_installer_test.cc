// Firmware installation over the directory back-end (real files, real health-check scripts, a
// real SIGKILL in the middle of an install) and the command lines of the RAUC back-end.
#include "update/slot_installer.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "update/file_util.h"
#include "update/firmware.h"

namespace eds::update {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class DirectorySlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(WriteFileAtomic(image_, std::string(1 << 20, 'n')), IsOk());
    fs::create_directories(slots_dir_ / "A");
    ASSERT_THAT(WriteFileAtomic(slots_dir_ / "A" / "image", "old system"), IsOk());
  }

  std::unique_ptr<SlotInstaller> Slots(std::function<void(uint64_t)> hook = nullptr) {
    DirectorySlotOptions options;
    options.dir = slots_dir_;
    options.initial_version = "1.0.0";
    options.after_chunk_for_test = std::move(hook);
    return MakeDirectorySlotInstaller(options);
  }

  // A health check that is a shell script exiting with `code`.
  HealthCheck Health(int code) {
    const fs::path script = dir_.path() / ("health" + std::to_string(code) + ".sh");
    EXPECT_THAT(WriteFileAtomic(script, "#!/bin/sh\necho self-test says " + std::to_string(code) +
                                            "\nexit " + std::to_string(code) + "\n"),
                IsOk());
    ::chmod(script.c_str(), 0755);
    return HealthCheck(runner_, HealthCheckOptions{{script.string()}, std::chrono::seconds(10)});
  }

  TempDir dir_;
  fs::path slots_dir_ = dir_.path() / "slots";
  fs::path image_ = dir_.path() / "new.img";
  ProcessRunner runner_;
};

TEST_F(DirectorySlotTest, InstallsIntoTheInactiveSlotAndCommitsAfterAHealthyBoot) {
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, image_, "1.1.0"), IsOk());
  SlotState state = *slots->State();
  EXPECT_EQ(state.booted, "B");
  EXPECT_EQ(state.pending, "B");
  EXPECT_EQ(state.committed, "A");
  EXPECT_EQ(state.boot_attempts_left, 2);
  HealthCheck health = Health(0);
  auto confirmed = ConfirmBoot(*slots, health);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kCommitted);
  EXPECT_EQ(confirmed->slot, "B");
  EXPECT_EQ(confirmed->version, "1.1.0");
  EXPECT_EQ(*ReadFile(slots_dir_ / "B" / "image"), std::string(1 << 20, 'n'));
  EXPECT_EQ(*ReadFile(slots_dir_ / "A" / "image"), "old system");
  // Committed: later boots stay on B.
  ASSERT_THAT(slots->Reboot(), IsOk());
  EXPECT_EQ(slots->State()->booted, "B");
}

TEST_F(DirectorySlotTest, AFailedHealthCheckRollsBackToThePreviousSlot) {
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, image_, "1.1.0"), IsOk());
  HealthCheck health = Health(1);
  auto confirmed = ConfirmBoot(*slots, health);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kRolledBack);
  EXPECT_EQ(confirmed->slot, "A");
  EXPECT_EQ(confirmed->version, "1.0.0");
  EXPECT_THAT(confirmed->reason, HasSubstr("self-test says 1"));
  EXPECT_EQ(slots->State()->pending, "");
}

TEST_F(DirectorySlotTest, AnExhaustedBootCounterRollsBack) {
  auto slots = Slots();
  ASSERT_THAT(slots->Install(image_, "1.1.0"), IsOk());
  for (int boot = 0; boot < 3; ++boot) {
    ASSERT_THAT(slots->Reboot(), IsOk());
    EXPECT_EQ(slots->State()->booted, "B") << "boot " << boot;
  }
  // Never marked good: the fourth boot returns to A.
  ASSERT_THAT(slots->Reboot(), IsOk());
  SlotState state = *slots->State();
  EXPECT_EQ(state.booted, "A");
  EXPECT_EQ(state.pending, "");
  EXPECT_EQ(state.installed_version, "1.0.0");
}

TEST_F(DirectorySlotTest, RefusesALowerOrEqualVersion) {
  auto slots = Slots();
  Status lower = StageFirmware(*slots, image_, "0.9.9");
  EXPECT_THAT(lower, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(lower.message(), HasSubstr("refusing firmware 0.9.9: version 1.0.0 is installed"));
  EXPECT_THAT(StageFirmware(*slots, image_, "1.0"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(fs::exists(slots_dir_ / "B"));
  EXPECT_EQ(slots->State()->booted, "A");
}

TEST_F(DirectorySlotTest, RefusesToInstallOverAnUncommittedBootedSlot) {
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, image_, "1.1.0"), IsOk());
  EXPECT_THAT(slots->Install(image_, "1.2.0"), StatusIs(StatusCode::kFailedPrecondition));
}

// The installing process is killed with SIGKILL after `chunks` chunks of the image were written
// (a power cut); the next boot must still be the old slot, and a new install must work.
void CutPowerDuringInstall(const fs::path& slots_dir, const fs::path& image, uint64_t chunks) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    DirectorySlotOptions options;
    options.dir = slots_dir;
    options.initial_version = "1.0.0";
    options.after_chunk_for_test = [&](uint64_t bytes) {
      if (bytes >= chunks * 64 * 1024) {
        (void)!::write(fds[1], "x", 1);
        ::pause();  // wait for the power cut
      }
    };
    Status s = MakeDirectorySlotInstaller(options)->Install(image, "1.1.0");
    ::_exit(s.ok() ? 0 : 1);
  }
  ::close(fds[1]);
  pollfd p{fds[0], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 30000), 1) << "the installer never reached the cut point";
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  ::close(fds[0]);
}

TEST_F(DirectorySlotTest, APowerCutDuringInstallStillBootsTheOldSlot) {
  for (uint64_t chunks : {1u, 8u, 16u}) {
    SCOPED_TRACE("cut after chunk " + std::to_string(chunks));
    CutPowerDuringInstall(slots_dir_, image_, chunks);
    auto slots = Slots();
    ASSERT_THAT(slots->Reboot(), IsOk());
    SlotState state = *slots->State();
    EXPECT_EQ(state.booted, "A");
    EXPECT_EQ(state.committed, "A");
    EXPECT_EQ(state.pending, "");
    EXPECT_EQ(state.installed_version, "1.0.0");
    EXPECT_EQ(*ReadFile(slots_dir_ / "A" / "image"), "old system");
  }
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, image_, "1.1.0"), IsOk());
  EXPECT_EQ(*ReadFile(slots_dir_ / "B" / "image"), std::string(1 << 20, 'n'));
}

// Answers `rauc status` from a table and records every command line.
class RecordingRunner final : public CommandRunner {
 public:
  Result<CommandResult> Run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds) override {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    lines.push_back(line);
    if (line == "rauc status --output-format=json" ||
        line == "rauc status --detailed --output-format=json") {
      return CommandResult{0, status_json};
    }
    if (argv[0] == "health") return CommandResult{health_exit, "health output"};
    return CommandResult{0, ""};
  }

  std::vector<std::string> lines;
  std::string status_json;
  int health_exit = 0;
};

std::string RaucStatus(const std::string& booted, const std::string& primary,
                       const std::string& b_boot_status = "good") {
  return R"({"compatible":"eds-node","booted":")" + booted + R"(","boot_primary":")" + primary +
         R"(","slots":[{"rootfs.0":{"class":"rootfs","bootname":"A","state":"booted",
         "boot_status":"good","slot_status":{"bundle":{"version":"1.0.0"}}}},{"rootfs.1":{
         "class":"rootfs","bootname":"B","state":"inactive","boot_status":")" +
         b_boot_status + R"(","slot_status":{"bundle":{"version":"1.1.0"}}}}]})";
}
constexpr const char* kStatus = "rauc status --detailed --output-format=json";

class RaucSlotTest : public ::testing::Test {
 protected:
  std::unique_ptr<SlotInstaller> Slots() {
    RaucSlotOptions options;
    options.state_dir = dir_.path();
    return MakeRaucSlotInstaller(runner_, options);
  }

  TempDir dir_;
  RecordingRunner runner_;
  HealthCheck health_{runner_, HealthCheckOptions{{"health", "--self-test"}}};
};

TEST_F(RaucSlotTest, InstallsWithRaucAndReboots) {
  runner_.status_json = RaucStatus("A", "rootfs.1");
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, "/data/update.raucb", "1.1.0"), IsOk());
  EXPECT_THAT(runner_.lines, ElementsAre(kStatus, "rauc install /data/update.raucb",
                                         "rauc status --output-format=json", "systemctl reboot"));
  EXPECT_EQ(slots->State()->pending, "B");
}

// The health check outside edsd (or the boot counter) gave up on the new slot: RAUC reports it
// bad, it is no longer pending and the booted slot stays committed.
TEST_F(RaucSlotTest, ASlotMarkedBadIsNoLongerPending) {
  runner_.status_json = RaucStatus("A", "rootfs.1");
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, "/data/update.raucb", "1.1.0"), IsOk());
  runner_.status_json = RaucStatus("A", "rootfs.0", "bad");
  auto state = slots->State();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->pending, "");
  EXPECT_EQ(state->committed, "A");
  EXPECT_EQ(state->installed_version, "1.0.0");
  auto confirmed = ConfirmBoot(*slots, health_);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kNothingPending);
}

// What RAUC 1.8 prints: child slots (the hash trees) and unknown values are null, which must not
// throw (an exception there ended edsd in its boot confirmation).
TEST_F(RaucSlotTest, ReadsRaucsNullsForChildSlots) {
  runner_.status_json = R"({"compatible":"eds-node-x86_64","variant":null,"booted":"b",
      "boot_primary":"rootfs.1","slots":[
      {"verity.0":{"class":"verity","device":"/dev/disk/by-partlabel/eds-verity-a","type":"raw",
       "bootname":null,"state":"inactive","parent":"rootfs.0","mountpoint":null,
       "boot_status":null}},
      {"rootfs.0":{"class":"rootfs","device":"/dev/disk/by-partlabel/eds-root-a","type":"raw",
       "bootname":"a","state":"inactive","parent":null,"mountpoint":null,"boot_status":"bad",
       "slot_status":{"bundle":{"compatible":"eds-node-x86_64","version":null}}}},
      {"rootfs.1":{"class":"rootfs","device":"/dev/disk/by-partlabel/eds-root-b","type":"raw",
       "bootname":"b","state":"booted","parent":null,"mountpoint":null,"boot_status":"good",
       "slot_status":{"bundle":{"compatible":"eds-node-x86_64","version":"1.1.0"}}}}]})";
  auto slots = Slots();
  auto state = slots->State();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->booted, "b");
  EXPECT_EQ(state->installed_version, "1.1.0");
  auto confirmed = ConfirmBoot(*slots, health_);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kNothingPending);
}

// The rauc client logs on stderr, which the runner mixes with the JSON on stdout.
TEST_F(RaucSlotTest, ReadsTheStatusAmongTheClientsMessages) {
  runner_.status_json =
      "rauc-Message: 01:09:37.989: Using central status file /var/lib/rauc/central.raucs\n" +
      RaucStatus("A", "rootfs.0") + "\n";
  auto state = Slots()->State();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->booted, "A");
  EXPECT_EQ(state->installed_version, "1.0.0");
}

TEST_F(RaucSlotTest, MarksTheNewSlotGoodAfterAHealthyBoot) {
  runner_.status_json = RaucStatus("A", "rootfs.1");
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, "/data/update.raucb", "1.1.0"), IsOk());
  runner_.status_json = RaucStatus("B", "rootfs.1");
  runner_.lines.clear();
  auto confirmed = ConfirmBoot(*slots, health_);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kCommitted);
  EXPECT_THAT(runner_.lines,
              ElementsAre(kStatus, "health --self-test", "rauc status mark-good booted", kStatus));
}

TEST_F(RaucSlotTest, MarksTheNewSlotBadAndRebootsAfterAFailedHealthCheck) {
  runner_.status_json = RaucStatus("A", "rootfs.1");
  auto slots = Slots();
  ASSERT_THAT(StageFirmware(*slots, "/data/update.raucb", "1.1.0"), IsOk());
  runner_.status_json = RaucStatus("B", "rootfs.1");
  runner_.health_exit = 3;
  runner_.lines.clear();
  auto confirmed = ConfirmBoot(*slots, health_);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->outcome, BootOutcome::kRolledBack);
  EXPECT_THAT(runner_.lines,
              ElementsAre(kStatus, "health --self-test", "rauc status mark-bad booted",
                          "systemctl reboot", kStatus));
}

TEST_F(RaucSlotTest, RefusesALowerVersionWithoutRunningRaucInstall) {
  runner_.status_json = RaucStatus("A", "rootfs.0");
  auto slots = Slots();
  EXPECT_THAT(StageFirmware(*slots, "/data/old.raucb", "0.9.0"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(runner_.lines, ElementsAre(kStatus));
}

}  // namespace
}  // namespace eds::update
