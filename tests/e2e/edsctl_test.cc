// edsctl against a running edsd: status, backup, verify, rotate-key, offline restore, and the
// control socket's permissions.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "daemon/control_server.h"
#include "tests/e2e/edsd_harness.h"

namespace eds::testing {
namespace {

using std::chrono::seconds;

class EdsctlTest : public ::testing::Test {
 protected:
  EdsctlTest() : notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, FreeLoopbackPort());
  }

  void StartDaemon() {
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_.path()}, dir_.Sub("edsd.log"));
    ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }
  void StopDaemon() {
    edsd_->Signal(SIGTERM);
    auto status = edsd_->WaitExit(seconds(5));
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(WEXITSTATUS(*status), 0);
    edsd_.reset();
  }
  CommandResult Edsctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return RunCommand(args, seconds(60));
  }
  std::string MasterKey() {
    std::ifstream in(dir_.Sub("master.key"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  NotifySocket notify_;
  std::string config_;
  std::unique_ptr<EdsdProcess> edsd_;
};

TEST_F(EdsctlTest, StatusVerifyBackupRotateAndRestore) {
  StartDaemon();
  auto status = Edsctl({"--json", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  auto j = nlohmann::json::parse(status.output);
  EXPECT_EQ(j["store"]["state"], "open");
  EXPECT_EQ(j["store"]["data_dir"], dir_.Sub("data"));

  auto verify = Edsctl({"verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("audit log: intact"), std::string::npos) << verify.output;

  auto backup = Edsctl({"backup", dir_.Sub("backups")});
  ASSERT_EQ(backup.exit_code, 0) << backup.output;
  const std::string prefix = "backup written to ";
  ASSERT_EQ(backup.output.rfind(prefix, 0), 0u) << backup.output;
  const std::string backup_path =
      backup.output.substr(prefix.size(), backup.output.find('\n') - prefix.size());
  EXPECT_TRUE(std::filesystem::exists(backup_path + "/EDS-BACKUP.json"));

  const std::string old_key = MasterKey();
  auto rotate = Edsctl({"rotate-key"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.output;
  EXPECT_NE(MasterKey(), old_key);
  EXPECT_EQ(rotate.output.find(old_key.substr(0, 16)), std::string::npos)
      << "no key material printed";

  // Restore refuses while the daemon runs, then works once it is stopped.
  auto refused = Edsctl({"restore", backup_path});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("stop edsd"), std::string::npos) << refused.output;
  StopDaemon();
  auto restore = Edsctl({"restore", backup_path});
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_NE(restore.output.find("audit log intact"), std::string::npos) << restore.output;
  StartDaemon();  // the restored store opens under the rotated key
  EXPECT_EQ(Edsctl({"verify"}).exit_code, 0);
  StopDaemon();
}

TEST_F(EdsctlTest, WithoutADaemonOnlineCommandsSaySo) {
  auto r = Edsctl({"status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("is edsd running?"), std::string::npos) << r.output;
}

TEST_F(EdsctlTest, ControlSocketIsPrivateAndRefusesOtherUsers) {
  StartDaemon();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Sub("edsd.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (::geteuid() != 0) {
    std::cout << "not root: cannot switch to another user; checked the socket mode only\n";
    StopDaemon();
    return;
  }
  // A child that becomes another user: the kernel refuses the connection (0600), and the
  // daemon would refuse its credentials even if the mode were wider. The child enters the
  // socket's folder while still root and connects by relative name, so the test does not
  // depend on whether the folders above the temporary dir are open to other users.
  ::chmod(dir_.path().c_str(), 0755);
  const auto as_nobody = [&](auto&& check) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.path().c_str()) != 0) _exit(4);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
      auto r = daemon::ControlRequest("edsd.sock", {{"cmd", "status"}}, 5000);
      _exit(check(r) ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  };
  EXPECT_EQ(as_nobody([](const Result<nlohmann::json>& r) {
              return !r.ok() && r.status().message().find("Permission denied") != std::string::npos;
            }),
            0);
  ::chmod(dir_.Sub("edsd.sock").c_str(), 0666);  // widen the mode: credentials still refuse
  EXPECT_EQ(as_nobody([](const Result<nlohmann::json>& r) {
              return r.ok() && (*r).value("error", "") == "permission denied";
            }),
            0);
  StopDaemon();
}

TEST(EdsctlGroupTest, ConfiguredGroupMembersMayUseTheSocket) {
  if (::geteuid() != 0) {
    std::cout << "not root: cannot switch to a group member; covered by PeerAllowedTest\n";
    return;
  }
  TempDir dir;
  NotifySocket notify(dir.Sub("notify.sock"));
  const std::string config = WriteTestConfig(dir, FreeLoopbackPort());
  // control.group must go in the [control] section: rewrite it with the group.
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.replace(text.find("[control]\n"), 10, "[control]\ngroup = \"nogroup\"\n");
  std::ofstream(config) << text;
  EdsdProcess edsd(BuiltBinary("edsd"), {"--config", config}, {"NOTIFY_SOCKET=" + notify.path()},
                   dir.Sub("edsd.log"));
  ASSERT_TRUE(notify.WaitFor("READY=1", seconds(20), nullptr)) << edsd.Log();
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("edsd.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, 65534u);
  ::chmod(dir.path().c_str(), 0755);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
    auto r = daemon::ControlRequest(dir.Sub("edsd.sock"), {{"cmd", "status"}}, 5000);
    _exit(r.ok() && (*r).value("ok", false) ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a member of control.group is allowed";
  edsd.Signal(SIGTERM);
  ASSERT_TRUE(edsd.WaitExit(seconds(5)).has_value());
}

TEST(PeerAllowedTest, RootOwnerAndGroupMembersOnly) {
  using daemon::PeerAllowed;
  EXPECT_TRUE(PeerAllowed({1, 0, 0}, 500, -1));
  EXPECT_TRUE(PeerAllowed({1, 500, 500}, 500, -1));
  EXPECT_FALSE(PeerAllowed({1, 501, 501}, 500, -1));
  EXPECT_TRUE(PeerAllowed({1, 501, 900}, 500, 900));
  EXPECT_FALSE(PeerAllowed({1, 501, 901}, 500, 900));
}

}  // namespace
}  // namespace eds::testing
