#include "daemon/systemd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::daemon {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;

// Saves an environment variable and puts it back when the test ends.
class ScopedEnv {
 public:
  explicit ScopedEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  void Set(const std::string& value) { setenv(name_, value.c_str(), 1); }
  void Unset() { unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Plays the service manager: a datagram socket that NOTIFY_SOCKET points to.
class SystemdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_path_ = dir_.Sub("notify.sock");
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(socket_path_.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0)
        << std::strerror(errno);
    timeval timeout{.tv_sec = 5, .tv_usec = 0};  // bounds every wait
    ASSERT_EQ(setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
    notify_socket_.Set(socket_path_);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }

  // The next datagram, or "<nothing>" after the timeout.
  std::string Receive() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return "<nothing>";
    return std::string(buf, static_cast<size_t>(n));
  }
  bool NothingPending() {
    char buf[16];
    return recv(fd_, buf, sizeof(buf), MSG_DONTWAIT) < 0;
  }

  eds::testing::TempDir dir_;
  std::string socket_path_;
  int fd_ = -1;
  ScopedEnv notify_socket_{"NOTIFY_SOCKET"};
  ScopedEnv watchdog_usec_{"WATCHDOG_USEC"};
  ScopedEnv watchdog_pid_{"WATCHDOG_PID"};
  Systemd systemd_;
};

TEST_F(SystemdTest, NotifyReadySendsReady) {
  EXPECT_THAT(systemd_.NotifyReady(), IsOk());
  EXPECT_EQ(Receive(), "READY=1");
}

TEST_F(SystemdTest, NotifyStatusSendsText) {
  EXPECT_THAT(systemd_.NotifyStatus("serving, 3 feeds connected"), IsOk());
  EXPECT_EQ(Receive(), "STATUS=serving, 3 feeds connected");
}

TEST_F(SystemdTest, NotifyStatusKeepsTextOnOneLine) {
  EXPECT_THAT(systemd_.NotifyStatus("line one\nREADY=1\r\n"), IsOk());
  EXPECT_EQ(Receive(), "STATUS=line one READY=1  ");
}

TEST_F(SystemdTest, NotifyStoppingSendsStopping) {
  EXPECT_THAT(systemd_.NotifyStopping(), IsOk());
  EXPECT_EQ(Receive(), "STOPPING=1");
}

TEST_F(SystemdTest, NotifyWatchdogSendsWatchdog) {
  EXPECT_THAT(systemd_.NotifyWatchdog(), IsOk());
  EXPECT_EQ(Receive(), "WATCHDOG=1");
}

TEST_F(SystemdTest, NotifyReloadingSendsMonotonicTime) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  EXPECT_THAT(systemd_.NotifyReloading(), IsOk());
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);
  const std::string datagram = Receive();
  ASSERT_THAT(datagram, MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  const long long usec = std::stoll(datagram.substr(datagram.find('=', 12) + 1));
  EXPECT_GE(usec, before.tv_sec * 1000000LL + before.tv_nsec / 1000);
  EXPECT_LE(usec, after.tv_sec * 1000000LL + after.tv_nsec / 1000);
}

TEST_F(SystemdTest, SendsEachCallAsOneDatagramInOrder) {
  EXPECT_THAT(systemd_.NotifyStatus("starting"), IsOk());
  EXPECT_THAT(systemd_.NotifyReady(), IsOk());
  EXPECT_THAT(systemd_.NotifyWatchdog(), IsOk());
  EXPECT_EQ(Receive(), "STATUS=starting");
  EXPECT_EQ(Receive(), "READY=1");
  EXPECT_EQ(Receive(), "WATCHDOG=1");
  EXPECT_TRUE(NothingPending());
}

TEST_F(SystemdTest, KeepsNotifySocketInEnvironment) {
  EXPECT_THAT(systemd_.NotifyReady(), IsOk());
  ASSERT_NE(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(std::string(std::getenv("NOTIFY_SOCKET")), socket_path_);
  EXPECT_THAT(systemd_.NotifyWatchdog(), IsOk());
  EXPECT_EQ(Receive(), "READY=1");
  EXPECT_EQ(Receive(), "WATCHDOG=1");
}

TEST_F(SystemdTest, WithoutNotifySocketCallsAreHarmlessNoOps) {
  notify_socket_.Unset();
  EXPECT_THAT(systemd_.NotifyReady(), IsOk());
  EXPECT_THAT(systemd_.NotifyStatus("x"), IsOk());
  EXPECT_THAT(systemd_.NotifyStopping(), IsOk());
  EXPECT_THAT(systemd_.NotifyWatchdog(), IsOk());
  EXPECT_THAT(systemd_.NotifyReloading(), IsOk());
  EXPECT_TRUE(NothingPending());
}

TEST_F(SystemdTest, UnreachableNotifySocketIsUnavailable) {
  notify_socket_.Set(dir_.Sub("absent.sock"));
  EXPECT_THAT(systemd_.NotifyReady(), StatusIs(StatusCode::kUnavailable));
}

TEST_F(SystemdTest, WatchdogIntervalComesFromEnvironment) {
  watchdog_usec_.Set("2000000");
  watchdog_pid_.Set(std::to_string(getpid()));
  EXPECT_EQ(systemd_.WatchdogInterval(), std::optional<std::chrono::microseconds>(2s));
  EXPECT_EQ(systemd_.WatchdogPingPeriod(), std::optional<std::chrono::microseconds>(1s));
  // The variables stay for a later call (and for a reload).
  EXPECT_NE(std::getenv("WATCHDOG_USEC"), nullptr);
  EXPECT_EQ(systemd_.WatchdogInterval(), std::optional<std::chrono::microseconds>(2s));
}

TEST_F(SystemdTest, WatchdogIntervalWithoutPidApplies) {
  watchdog_usec_.Set("2000000");
  watchdog_pid_.Unset();
  EXPECT_EQ(systemd_.WatchdogInterval(), std::optional<std::chrono::microseconds>(2s));
}

TEST_F(SystemdTest, WatchdogForAnotherProcessIsNone) {
  watchdog_usec_.Set("2000000");
  watchdog_pid_.Set(std::to_string(getpid() + 1));
  EXPECT_EQ(systemd_.WatchdogInterval(), std::nullopt);
  EXPECT_EQ(systemd_.WatchdogPingPeriod(), std::nullopt);
}

TEST_F(SystemdTest, WatchdogUnsetIsNone) {
  watchdog_usec_.Unset();
  watchdog_pid_.Unset();
  EXPECT_EQ(systemd_.WatchdogInterval(), std::nullopt);
  EXPECT_EQ(systemd_.WatchdogPingPeriod(), std::nullopt);
}

TEST_F(SystemdTest, MalformedWatchdogIsNone) {
  watchdog_pid_.Unset();
  watchdog_usec_.Set("two seconds");
  EXPECT_EQ(systemd_.WatchdogInterval(), std::nullopt);
  watchdog_usec_.Set("0");
  EXPECT_EQ(systemd_.WatchdogInterval(), std::nullopt);
}

}  // namespace
}  // namespace eds::daemon
