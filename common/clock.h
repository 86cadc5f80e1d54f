// Clock: the time seam. Services that wait, expire or schedule take a Clock& so tests can use a
// manual clock instead of sleeping. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace eds {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (for timestamps written into records and the audit log).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time (for timeouts, intervals and uptime).
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  // A process-wide instance; lives for the whole program.
  static SystemClock& Get();
};

// Milliseconds since the Unix epoch.
int64_t UnixMillis(std::chrono::system_clock::time_point t);
// RFC 3339 / ISO 8601 in UTC with milliseconds, e.g. 2026-11-28T15:35:38.123Z.
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace eds
