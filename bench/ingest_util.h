// Helpers shared by the benchmark tools (first written for bench/run_ingest_benchmark.sh):
// "--name value" flags, this process's CPU time, contiguous slices of a line-oriented corpus file
// (one per connection), wall-clock timing and the peak RSS of another process. Not thread-safe
// unless stated.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace eds::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU seconds (user and system, every thread) this process has used so far.
double ProcessCpuSeconds();

// "--name value" pairs from argv[first] on.
class Flags {
 public:
  static Result<Flags> Parse(int argc, char** argv, int first);
  // Every flag given must have been read, so a typo is an error rather than a default.
  Status CheckAllUsed() const;
  Result<std::string> String(const std::string& name,
                             std::optional<std::string> fallback = std::nullopt);
  // A positive integer.
  Result<uint64_t> Number(const std::string& name, std::optional<uint64_t> fallback = std::nullopt);
  // A non-negative integer.
  Result<uint64_t> Count(const std::string& name, uint64_t fallback);

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

// Byte offsets where the first `max_lines` lines of `path` start, plus the end of the last one:
// offsets.size() == lines + 1. Fewer lines when the file is shorter. kNotFound if unreadable.
Result<std::vector<uint64_t>> IndexLines(const std::string& path, uint64_t max_lines);

// Lines [first, last) of `offsets` split into `parts` contiguous slices of near-equal size, as
// (first line, end line) pairs; a slice keeps a patient's lines together but at its edges.
std::vector<std::pair<uint64_t, uint64_t>> SplitLines(uint64_t lines, uint64_t parts);

// Reads lines one after the other from a byte offset.
class LineReader {
 public:
  static Result<LineReader> Open(const std::string& path, uint64_t offset);
  // The next line without its '\n'; false at end of file.
  bool Next(std::string& line);

 private:
  explicit LineReader(std::ifstream in) : in_(std::move(in)) {}
  std::ifstream in_;
};

struct Percentiles {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};
// Median, 99th percentile and largest of `values` (zeros when empty).
Percentiles Summarize(std::vector<double> values);

// VmHWM (peak resident set) of process `pid` in KiB from /proc/<pid>/status; 0 if unreadable.
uint64_t PeakRssKib(long pid);
// VmRSS (resident set now) in KiB; 0 if unreadable.
uint64_t RssKib(long pid);

// The value of `"resourceType":"..."` first found in compact JSON; empty if none.
std::string ResourceTypeOf(const std::string& json);

// Every *.json file under `dir` (the unpacked Synthea bundles), sorted by path.
Result<std::vector<std::filesystem::path>> ListBundles(const std::string& dir);

}  // namespace eds::bench
