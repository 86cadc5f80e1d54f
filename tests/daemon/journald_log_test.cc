#include "daemon/journald_log.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cstring>
#include <filesystem>

#include <cstdlib>
#include <optional>
#include <string>

#include "tests/testing/temp_dir.h"

namespace eds::daemon {
namespace {

using ::testing::ElementsAre;

// "<dev>:<ino>" of the file open on `fd`, as systemd writes JOURNAL_STREAM.
std::string DevIno(int fd) {
  struct stat st {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

class ScopedJournalStream {
 public:
  ScopedJournalStream() {
    if (const char* v = std::getenv("JOURNAL_STREAM")) old_ = v;
  }
  ~ScopedJournalStream() {
    if (old_) {
      setenv("JOURNAL_STREAM", old_->c_str(), 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST(JournaldLogTest, FieldsCarryMessagePriorityAndIdentifier) {
  EXPECT_THAT(JournalFields(LogLevel::kInfo, "store opened", {}),
              ElementsAre("MESSAGE=store opened", "PRIORITY=6", "SYSLOG_IDENTIFIER=edsd"));
}

TEST(JournaldLogTest, CallerFieldsFollowInOrder) {
  EXPECT_THAT(JournalFields(LogLevel::kWarning, "feed slow",
                            {{"EDS_COMPONENT", "ingest"}, {"EDS_PORT", "2575"}}),
              ElementsAre("MESSAGE=feed slow", "PRIORITY=4", "SYSLOG_IDENTIFIER=edsd",
                          "EDS_COMPONENT=ingest", "EDS_PORT=2575"));
}

TEST(JournaldLogTest, PrioritiesAreSyslogNumbers) {
  EXPECT_EQ(JournalPriority(LogLevel::kDebug), 7);
  EXPECT_EQ(JournalPriority(LogLevel::kInfo), 6);
  EXPECT_EQ(JournalPriority(LogLevel::kWarning), 4);
  EXPECT_EQ(JournalPriority(LogLevel::kError), 3);
  EXPECT_EQ(JournalFields(LogLevel::kError, "m", {})[1], "PRIORITY=3");
  EXPECT_EQ(JournalFields(LogLevel::kDebug, "m", {})[1], "PRIORITY=7");
}

TEST(JournaldLogTest, MultiLineMessageStaysOneField) {
  EXPECT_EQ(JournalFields(LogLevel::kError, "a\nb", {})[0], "MESSAGE=a\nb");
}

TEST(JournaldLogTest, FieldNamesAreSanitised) {
  EXPECT_EQ(SanitizeJournalFieldName("EDS_COMPONENT"), "EDS_COMPONENT");
  EXPECT_EQ(SanitizeJournalFieldName("eds_component"), "EDS_COMPONENT");
  EXPECT_EQ(SanitizeJournalFieldName("eds.port-no"), "EDS_PORT_NO");
  EXPECT_EQ(SanitizeJournalFieldName("_PID"), "EDS_PID");
  EXPECT_EQ(SanitizeJournalFieldName("__X"), "EDS__X");
  EXPECT_EQ(SanitizeJournalFieldName("2FA"), "EDS_2FA");
  EXPECT_EQ(SanitizeJournalFieldName(""), "EDS");
  EXPECT_EQ(SanitizeJournalFieldName("é"), "EDS__");  // two bytes, each replaced
  EXPECT_EQ(SanitizeJournalFieldName(std::string(100, 'a')), std::string(64, 'A'));
}

TEST(JournaldLogTest, CallerCannotOverrideOwnFields) {
  EXPECT_EQ(SanitizeJournalFieldName("MESSAGE"), "EDS_MESSAGE");
  EXPECT_EQ(SanitizeJournalFieldName("priority"), "EDS_PRIORITY");
  EXPECT_EQ(SanitizeJournalFieldName("SYSLOG_IDENTIFIER"), "EDS_SYSLOG_IDENTIFIER");
  EXPECT_THAT(JournalFields(LogLevel::kInfo, "m", {{"_PID", "1"}, {"MESSAGE", "x"}}),
              ElementsAre("MESSAGE=m", "PRIORITY=6", "SYSLOG_IDENTIFIER=edsd", "EDS_PID=1",
                          "EDS_MESSAGE=x"));
}

TEST(JournaldLogTest, JournalStreamMatchesFileOnFd) {
  eds::testing::TempDir dir;
  const int fd = open(dir.Sub("stderr.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string dev_ino = DevIno(fd);
  EXPECT_TRUE(JournalStreamMatches(dev_ino.c_str(), fd));

  const int other = open(dir.Sub("other.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(other, 0);
  EXPECT_FALSE(JournalStreamMatches(DevIno(other).c_str(), fd));
  close(other);
  close(fd);
  EXPECT_FALSE(JournalStreamMatches(dev_ino.c_str(), fd));  // closed fd
}

TEST(JournaldLogTest, MalformedJournalStreamDoesNotMatch) {
  eds::testing::TempDir dir;
  const int fd = open(dir.Sub("stderr.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string dev_ino = DevIno(fd);
  const std::string dev = dev_ino.substr(0, dev_ino.find(':'));
  const std::string ino = dev_ino.substr(dev_ino.find(':') + 1);
  EXPECT_FALSE(JournalStreamMatches(nullptr, fd));
  EXPECT_FALSE(JournalStreamMatches("", fd));
  EXPECT_FALSE(JournalStreamMatches(dev.c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches((dev + ":").c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches((":" + ino).c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches((dev_ino + "x").c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches((dev_ino + ":1").c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches(("-" + dev_ino).c_str(), fd));
  EXPECT_FALSE(JournalStreamMatches((ino + ":" + dev).c_str(), fd));
  close(fd);
}

TEST(JournaldLogTest, DefaultSinkIsJournaldOnlyWhenStderrIsTheJournalStream) {
  ScopedJournalStream restore;
  unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(MakeDefaultLogSink(), nullptr);

  setenv("JOURNAL_STREAM", DevIno(STDERR_FILENO).c_str(), 1);
  std::shared_ptr<LogSink> sink = MakeDefaultLogSink();
  ASSERT_NE(sink, nullptr);
  EXPECT_NE(dynamic_cast<JournaldLogSink*>(sink.get()), nullptr);

  // Inherited by a process whose stderr was redirected elsewhere: not the journal.
  eds::testing::TempDir dir;
  const int fd = open(dir.Sub("elsewhere").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  setenv("JOURNAL_STREAM", DevIno(fd).c_str(), 1);
  close(fd);
  EXPECT_EQ(MakeDefaultLogSink(), nullptr);
}

// What journald would receive: sd_journal_sendv writes to a fixed socket path. Where no journald
// runs (containers, build machines) the test plays journald on that path and reads the datagram.
TEST(JournaldLogTest, JournaldReceivesStructuredFields) {
  const char* kSocket = "/run/systemd/journal/socket";
  struct stat st {};
  const bool journald_present = stat(kSocket, &st) == 0;
  int fd = -1;
  if (!journald_present) {
    std::error_code ec;
    std::filesystem::create_directories("/run/systemd/journal", ec);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, kSocket, sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
        << "cannot play journald at " << kSocket << ": " << std::strerror(errno);
  }
  JournaldLogSink sink;
  sink.Write(LogLevel::kWarning, "two\nlines", {{"EDS_COMPONENT", "daemon"}, {"_bad", "x"}});
  if (journald_present) return;  // a real journald took it; the fields are checked above
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1) << "no datagram reached the journal socket";
  char buf[4096];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  unlink(kSocket);
  ASSERT_GT(n, 0);
  const std::string datagram(buf, static_cast<size_t>(n));
  EXPECT_NE(datagram.find("PRIORITY=4\n"), std::string::npos) << datagram;
  EXPECT_NE(datagram.find("SYSLOG_IDENTIFIER=edsd\n"), std::string::npos);
  EXPECT_NE(datagram.find("EDS_COMPONENT=daemon\n"), std::string::npos);
  // A multi-line message uses the binary form: name, newline, 64-bit length, value.
  EXPECT_NE(datagram.find("MESSAGE\n"), std::string::npos);
  EXPECT_NE(datagram.find("two\nlines"), std::string::npos);
  EXPECT_EQ(datagram.find("\n_bad="), std::string::npos) << "trusted fields cannot be forged";
}

}  // namespace
}  // namespace eds::daemon
