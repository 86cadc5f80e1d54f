// Helpers of the benchmark tools (see ingest_util.h).
#include "bench/ingest_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace eds::bench {

Result<Flags> Flags::Parse(int argc, char** argv, int first) {
  Flags f;
  for (int i = first; i < argc; i += 2) {
    const std::string name = argv[i];
    if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
      return InvalidArgumentError("expected --flag value, got " + name);
    }
    f.values_[name.substr(2)] = argv[i + 1];
  }
  return f;
}

Status Flags::CheckAllUsed() const {
  for (const auto& [name, value] : values_) {
    if (!used_.contains(name)) return InvalidArgumentError("unknown flag --" + name);
  }
  return OkStatus();
}

Result<std::string> Flags::String(const std::string& name, std::optional<std::string> fallback) {
  used_[name] = true;
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (fallback) return *fallback;
  return InvalidArgumentError("--" + name + " is required");
}

namespace {

// The value of `name` as an integer: at least `min`; `fallback` when absent (nullopt: required).
Result<uint64_t> Integer(const std::map<std::string, std::string>& values, const std::string& name,
                         std::optional<uint64_t> fallback, uint64_t min) {
  auto it = values.find(name);
  if (it == values.end()) {
    if (fallback) return *fallback;
    return InvalidArgumentError("--" + name + " is required");
  }
  char* end = nullptr;
  const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (it->second.empty() || it->second[0] == '-' || *end != '\0' || v < min) {
    return InvalidArgumentError("--" + name +
                                (min > 0 ? " needs a positive integer" : " needs an integer"));
  }
  return static_cast<uint64_t>(v);
}

}  // namespace

Result<uint64_t> Flags::Number(const std::string& name, std::optional<uint64_t> fallback) {
  used_[name] = true;
  return Integer(values_, name, fallback, 1);
}

Result<uint64_t> Flags::Count(const std::string& name, uint64_t fallback) {
  used_[name] = true;
  return Integer(values_, name, fallback, 0);
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

Result<std::vector<uint64_t>> IndexLines(const std::string& path, uint64_t max_lines) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return NotFoundError("cannot open " + path);
  std::vector<uint64_t> offsets = {0};
  std::vector<char> buf(1 << 20);
  uint64_t pos = 0;
  while (offsets.size() <= max_lines) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n == 0) break;
    for (size_t i = 0; i < n && offsets.size() <= max_lines; ++i) {
      if (buf[i] == '\n') offsets.push_back(pos + i + 1);
    }
    pos += n;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return UnavailableError("reading " + path + " failed");
  return offsets;
}

std::vector<std::pair<uint64_t, uint64_t>> SplitLines(uint64_t lines, uint64_t parts) {
  std::vector<std::pair<uint64_t, uint64_t>> slices;
  for (uint64_t i = 0; i < parts; ++i) {
    slices.emplace_back(lines * i / parts, lines * (i + 1) / parts);
  }
  return slices;
}

Result<LineReader> LineReader::Open(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path);
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in) return OutOfRangeError(path + " is shorter than offset " + std::to_string(offset));
  return LineReader(std::move(in));
}

bool LineReader::Next(std::string& line) { return static_cast<bool>(std::getline(in_, line)); }

Percentiles Summarize(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return {values[n / 2], values[std::min(n - 1, n * 99 / 100)], values.back()};
}

namespace {

// The "Name:   N kB" line of /proc/<pid>/status.
uint64_t StatusKib(long pid, std::string_view name) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::string_view(line).starts_with(name) && line[name.size()] == ':' &&
        std::sscanf(line + name.size() + 1, "%llu", &kib) == 1) {
      break;
    }
  }
  std::fclose(f);
  return kib;
}

}  // namespace

uint64_t PeakRssKib(long pid) { return StatusKib(pid, "VmHWM"); }
uint64_t RssKib(long pid) { return StatusKib(pid, "VmRSS"); }

std::string ResourceTypeOf(const std::string& json) {
  static constexpr char kKey[] = "\"resourceType\":\"";
  const size_t start = json.find(kKey);
  if (start == std::string::npos) return "";
  const size_t from = start + sizeof kKey - 1;
  const size_t end = json.find('"', from);
  return end == std::string::npos ? "" : json.substr(from, end - from);
}

Result<std::vector<std::filesystem::path>> ListBundles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) return NotFoundError("cannot list " + dir + ": " + ec.message());
  if (files.empty()) return NotFoundError("no *.json bundles under " + dir);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace eds::bench
