// Logging front end shared by every module. The daemon installs a sink (journald with
// structured fields, or stderr); until then messages go to stderr.
// Never pass patient data or secrets in a message or field: logs leave the encrypted store.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eds {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

std::string_view LogLevelName(LogLevel level);

// Structured field: name in journald convention (upper case, e.g. "EDS_PORT") and value.
using LogField = std::pair<std::string, std::string>;

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, std::string_view message,
                     const std::vector<LogField>& fields) = 0;
};

// Installs `sink` (nullptr restores stderr) and returns the previous one.
std::shared_ptr<LogSink> SetLogSink(std::shared_ptr<LogSink> sink);
// Messages below `level` are dropped. Default kInfo. Changeable at run time (SIGHUP).
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

void Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields = {});
inline void LogInfo(std::string_view m, const std::vector<LogField>& f = {}) {
  Log(LogLevel::kInfo, m, f);
}
inline void LogWarning(std::string_view m, const std::vector<LogField>& f = {}) {
  Log(LogLevel::kWarning, m, f);
}
inline void LogError(std::string_view m, const std::vector<LogField>& f = {}) {
  Log(LogLevel::kError, m, f);
}

// The stderr format: "2026-11-28T15:35:38.123Z INFO message KEY=value ...".
std::string FormatLogLine(LogLevel level, std::string_view message,
                          const std::vector<LogField>& fields);

}  // namespace eds
