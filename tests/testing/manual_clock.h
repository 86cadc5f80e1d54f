// ManualClock: a Clock that only moves when a test advances it. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "common/clock.h"

namespace eds::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(
      std::chrono::system_clock::time_point start =
          std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)))
      : wall_ns_(start.time_since_epoch().count()) {}

  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::system_clock::duration(wall_ns_.load()));
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(mono_ns_.load()));
  }
  void Advance(std::chrono::nanoseconds d) {
    wall_ns_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
    mono_ns_ += d.count();
  }

 private:
  std::atomic<std::chrono::system_clock::rep> wall_ns_;
  std::atomic<int64_t> mono_ns_{0};
};

}  // namespace eds::testing
