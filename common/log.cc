#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/clock.h"

namespace eds {
namespace {

std::mutex g_sink_mu;
std::shared_ptr<LogSink> g_sink;  // guarded by g_sink_mu
std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

std::shared_ptr<LogSink> SetLogSink(std::shared_ptr<LogSink> sink) {
  std::lock_guard<std::mutex> lock(g_sink_mu);
  std::swap(sink, g_sink);
  return sink;
}

void SetMinLogLevel(LogLevel level) { g_min_level = static_cast<int>(level); }
LogLevel MinLogLevel() { return static_cast<LogLevel>(g_min_level.load()); }

std::string FormatLogLine(LogLevel level, std::string_view message,
                          const std::vector<LogField>& fields) {
  std::string line = FormatRfc3339(std::chrono::system_clock::now());
  line += ' ';
  line += LogLevelName(level);
  line += ' ';
  line += message;
  for (const auto& [name, value] : fields) {
    line += ' ';
    line += name;
    line += '=';
    line += value;
  }
  return line;
}

void Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  std::shared_ptr<LogSink> sink;
  {
    std::lock_guard<std::mutex> lock(g_sink_mu);
    sink = g_sink;
  }
  if (sink) {
    sink->Write(level, message, fields);
    return;
  }
  const std::string line = FormatLogLine(level, message, fields) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace eds
