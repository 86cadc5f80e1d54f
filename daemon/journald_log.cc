#include "daemon/journald_log.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace eds::daemon {
namespace {

constexpr size_t kMaxFieldNameLength = 64;  // journald drops longer names
constexpr std::string_view kOwnFields[] = {"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"};

// Parses a whole decimal number; no sign, no trailing text.
bool ParseDecimal(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

int JournalPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 7;  // LOG_DEBUG
    case LogLevel::kInfo:
      return 6;  // LOG_INFO
    case LogLevel::kWarning:
      return 4;  // LOG_WARNING
    case LogLevel::kError:
      return 3;  // LOG_ERR
  }
  return 6;
}

std::string SanitizeJournalFieldName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char ch : name) {
    if (ch >= 'a' && ch <= 'z') {
      out += static_cast<char>(ch - 'a' + 'A');
    } else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
      out += ch;
    } else {
      out += '_';
    }
  }
  bool own = false;
  for (std::string_view reserved : kOwnFields) own = own || out == reserved;
  // A caller's MESSAGE or PRIORITY would make a second, conflicting entry.
  if (out.empty() || out[0] == '_' || (out[0] >= '0' && out[0] <= '9') || own) {
    out.insert(0, out.empty() || out[0] == '_' ? "EDS" : "EDS_");
  }
  if (out.size() > kMaxFieldNameLength) out.resize(kMaxFieldNameLength);
  return out;
}

std::vector<std::string> JournalFields(LogLevel level, std::string_view message,
                                       const std::vector<LogField>& fields) {
  std::vector<std::string> out;
  out.reserve(3 + fields.size());
  out.push_back("MESSAGE=" + std::string(message));
  out.push_back("PRIORITY=" + std::to_string(JournalPriority(level)));
  out.push_back("SYSLOG_IDENTIFIER=edsd");
  for (const auto& [name, value] : fields) {
    out.push_back(SanitizeJournalFieldName(name) + "=" + value);
  }
  return out;
}

void JournaldLogSink::Write(LogLevel level, std::string_view message,
                            const std::vector<LogField>& fields) {
  std::vector<std::string> entries = JournalFields(level, message, fields);
  std::vector<iovec> iov(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    iov[i].iov_base = entries[i].data();
    iov[i].iov_len = entries[i].size();
  }
  // sd_journal_sendv frames values containing newlines itself, so multi-line text stays one entry.
  if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
  const std::string line = FormatLogLine(level, message, fields) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

bool JournalStreamMatches(const char* env, int fd) {
  if (env == nullptr) return false;
  const std::string_view value(env);
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos) return false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  if (!ParseDecimal(value.substr(0, colon), dev) || !ParseDecimal(value.substr(colon + 1), ino)) {
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<uint64_t>(st.st_dev) == dev && static_cast<uint64_t>(st.st_ino) == ino;
}

std::shared_ptr<LogSink> MakeDefaultLogSink() {
  // systemd sets JOURNAL_STREAM for the service's stdout/stderr; a child whose stderr was
  // redirected inherits the variable, hence the device:inode comparison.
  if (!JournalStreamMatches(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)) return nullptr;
  return std::make_shared<JournaldLogSink>();
}

}  // namespace eds::daemon
