// store_benchmark: the store's durable put path and full scan against raw RocksDB on the same
// plaintext FHIR JSON. Run by hand (bench/run_store_benchmark.sh), never by ctest.
//   store_benchmark prepare --bundles DIR --out FILE.ndjson
//   store_benchmark run --mode eds|raw --corpus FILE.ndjson --dir DATA_DIR [--records 1000000]
//                       [--batch 1000] [--threads 2] [--dict-records 5000]
//                       [--records-per-patient N]  (default: one patient per bundle and pass)
//   store_benchmark fsync --dir DIR [--count 200]
// One mode per process, so the peak RSS (getrusage) is that mode's alone. `run` prints one JSON
// line and one human line; exit status 1 on any error.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/ingest_util.h"
#include "bench/store_corpus.h"
#include "bench/store_targets.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

// CPU seconds the whole machine spent busy (not idle, not waiting for I/O) so far, from
// /proc/stat; 0 when unreadable. Minus our own CPU time it shows whether other load disturbed
// a run, which a shared two-core machine makes likely.
double MachineBusySeconds() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return 0;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                            &v[3], &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return 0;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double PeakRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// "--name value" pairs after the subcommand.
class Flags {
 public:
  static Result<Flags> Parse(int argc, char** argv) {
    Flags f;
    for (int i = 2; i < argc; i += 2) {
      const std::string name = argv[i];
      if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
        return InvalidArgumentError("expected --flag value, got " + name);
      }
      f.values_[name.substr(2)] = argv[i + 1];
    }
    return f;
  }
  // Every flag given must have been read, so a typo is an error rather than a default.
  Status CheckAllUsed() const {
    for (const auto& [name, value] : values_) {
      if (!used_.contains(name)) return InvalidArgumentError("unknown flag --" + name);
    }
    return OkStatus();
  }
  Result<std::string> String(const std::string& name, std::optional<std::string> fallback = {}) {
    used_[name] = true;
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    if (fallback) return *fallback;
    return InvalidArgumentError("--" + name + " is required");
  }
  bool Has(const std::string& name) const { return values_.contains(name); }
  Result<uint64_t> Number(const std::string& name, uint64_t fallback) {
    used_[name] = true;
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v == 0) {
      return InvalidArgumentError("--" + name + " needs a positive integer");
    }
    return static_cast<uint64_t>(v);
  }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

Status Prepare(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string bundles, flags.String("bundles"));
  EDS_ASSIGN_OR_RETURN(std::string out, flags.String("out"));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  EDS_ASSIGN_OR_RETURN(CorpusSummary s, WriteCorpus(bundles, out));
  std::printf(
      "store_benchmark: corpus %s: %llu bundles (%llu with a patient), %llu resources, "
      "%.1f MB compact JSON, %llu duplicates skipped\n",
      out.c_str(), static_cast<unsigned long long>(s.bundles),
      static_cast<unsigned long long>(s.patient_bundles),
      static_cast<unsigned long long>(s.resources), static_cast<double>(s.json_bytes) / 1e6,
      static_cast<unsigned long long>(s.duplicates_skipped));
  return OkStatus();
}

struct RunConfig {
  std::string mode;
  std::string corpus;
  std::string dir;
  uint64_t records = 0;
  uint64_t batch = 0;
  uint64_t threads = 0;
  uint64_t dict_records = 0;
  uint64_t records_per_patient = 0;
};

struct PutTotals {
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  double other_cpu_seconds = 0;  // used by other processes meanwhile
};

// Writer threads pull batches from the shared reader until it runs dry; the first error stops
// every thread.
Result<PutTotals> PutAll(BenchTarget& target, CorpusReader& reader, const RunConfig& config) {
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> failed{false};
  Mutex error_mu;
  Status first_error;
  auto worker = [&] {
    while (!failed.load()) {
      Result<std::vector<storage::RecordWrite>> batch = reader.Next(config.batch);
      Status s = batch.ok() ? OkStatus() : batch.status();
      if (s.ok() && batch->empty()) return;
      if (s.ok()) s = target.Write(*batch);
      if (!s.ok()) {
        MutexLock lock(error_mu);
        if (!failed.exchange(true)) first_error = s;
        return;
      }
      uint64_t n = 0;
      for (const auto& r : *batch) n += r.payload.size();
      records += batch->size();
      bytes += n;
    }
  };
  const double cpu0 = ProcessCpuSeconds();
  const double busy0 = MachineBusySeconds();
  const Clock::time_point t0 = Clock::now();
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < config.threads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  PutTotals totals;
  totals.seconds = Seconds(t0, Clock::now());
  totals.cpu_seconds = ProcessCpuSeconds() - cpu0;
  totals.other_cpu_seconds = std::max(0.0, MachineBusySeconds() - busy0 - totals.cpu_seconds);
  if (failed.load()) {
    MutexLock lock(error_mu);
    return first_error;
  }
  totals.records = records.load();
  totals.payload_bytes = bytes.load();
  return totals;
}

Status Run(Flags& flags) {
  RunConfig c;
  EDS_ASSIGN_OR_RETURN(c.mode, flags.String("mode"));
  EDS_ASSIGN_OR_RETURN(c.corpus, flags.String("corpus"));
  EDS_ASSIGN_OR_RETURN(c.dir, flags.String("dir"));
  EDS_ASSIGN_OR_RETURN(c.records, flags.Number("records", 1000000));
  EDS_ASSIGN_OR_RETURN(c.batch, flags.Number("batch", 1000));
  EDS_ASSIGN_OR_RETURN(c.threads, flags.Number("threads", 2));
  EDS_ASSIGN_OR_RETURN(c.dict_records, flags.Number("dict-records", 5000));
  if (flags.Has("records-per-patient")) {
    EDS_ASSIGN_OR_RETURN(c.records_per_patient, flags.Number("records-per-patient", 0));
  }
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  if (c.mode != "eds" && c.mode != "raw") return InvalidArgumentError("--mode is eds or raw");
  std::error_code ec;
  if (std::filesystem::exists(c.dir, ec) && !std::filesystem::is_empty(c.dir, ec)) {
    return FailedPreconditionError(c.dir + " is not empty: every run needs a fresh data dir");
  }

  EDS_ASSIGN_OR_RETURN(auto reader, CorpusReader::Open(c.corpus, c.records, c.records_per_patient));
  std::unique_ptr<BenchTarget> target =
      c.mode == "eds" ? MakeEdsTarget(c.dir, c.dict_records) : MakeRawTarget(c.dir);
  EDS_RETURN_IF_ERROR(target->Open());
  EDS_ASSIGN_OR_RETURN(PutTotals put, PutAll(*target, *reader, c));
  const double rss_after_put = PeakRssMib();
  Clock::time_point t = Clock::now();
  EDS_RETURN_IF_ERROR(target->Close());
  const double close_seconds = Seconds(t, Clock::now());

  t = Clock::now();
  EDS_RETURN_IF_ERROR(CompactOffline(c.dir));
  const double compact_seconds = Seconds(t, Clock::now());
  const DiskUsage disk = MeasureDisk(c.dir);

  EDS_RETURN_IF_ERROR(target->Open());
  t = Clock::now();
  EDS_ASSIGN_OR_RETURN(ScanTotals scan, target->Scan());
  const double scan_seconds = Seconds(t, Clock::now());
  EDS_RETURN_IF_ERROR(target->Close());
  if (scan.records != put.records) {
    return DataLossError("scan saw " + std::to_string(scan.records) + " records, " +
                         std::to_string(put.records) + " were written");
  }

  const auto records = static_cast<double>(put.records);
  nlohmann::json j;
  j["mode"] = c.mode;
  j["records"] = put.records;
  j["batch"] = c.batch;
  j["threads"] = c.threads;
  j["corpus_passes"] = reader->passes();
  j["records_per_patient"] = c.records_per_patient;
  j["plaintext_bytes"] = put.payload_bytes;
  j["put_seconds"] = put.seconds;
  j["put_cpu_seconds"] = put.cpu_seconds;
  j["put_other_cpu_seconds"] = put.other_cpu_seconds;
  j["put_records_per_s"] = records / put.seconds;
  j["put_mb_per_s"] = static_cast<double>(put.payload_bytes) / 1e6 / put.seconds;
  j["close_seconds"] = close_seconds;
  j["compact_seconds"] = compact_seconds;
  j["disk_bytes"] = disk.total_bytes;
  j["sst_bytes"] = disk.sst_bytes;
  j["disk_bytes_per_record"] = static_cast<double>(disk.total_bytes) / records;
  j["scan_seconds"] = scan_seconds;
  j["scan_records_per_s"] = static_cast<double>(scan.records) / scan_seconds;
  j["scan_mb_per_s"] = static_cast<double>(scan.payload_bytes) / 1e6 / scan_seconds;
  j["peak_rss_mib_after_put"] = rss_after_put;
  j["peak_rss_mib"] = PeakRssMib();
  target->Describe(j);
  std::printf("%s\n", j.dump().c_str());
  std::printf(
      "store_benchmark: %s: put %.0f rec/s (%.1f MB/s, %.1f s, %.1f CPU-s), scan %.0f rec/s "
      "(%.1f MB/s), disk %.0f B/record (%.1f MB), peak RSS %.0f MiB\n",
      c.mode.c_str(), j["put_records_per_s"].get<double>(), j["put_mb_per_s"].get<double>(),
      put.seconds, put.cpu_seconds, j["scan_records_per_s"].get<double>(),
      j["scan_mb_per_s"].get<double>(), j["disk_bytes_per_record"].get<double>(),
      static_cast<double>(disk.total_bytes) / 1e6, j["peak_rss_mib"].get<double>());
  return OkStatus();
}

// Latency of one small synced append, the unit cost of every durable batch on this disk.
Status FsyncProbe(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string dir, flags.String("dir"));
  EDS_ASSIGN_OR_RETURN(uint64_t count, flags.Number("count", 200));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  const std::string path = dir + "/store_benchmark_fsync_probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + path);
  const std::string block(4096, 'x');
  std::vector<double> micros;
  Status status;
  for (uint64_t i = 0; i < count && status.ok(); ++i) {
    const Clock::time_point t = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      status = UnavailableError("write or fdatasync failed on " + path);
    }
    micros.push_back(Seconds(t, Clock::now()) * 1e6);
  }
  ::close(fd);
  ::unlink(path.c_str());
  EDS_RETURN_IF_ERROR(status);
  std::sort(micros.begin(), micros.end());
  nlohmann::json j;
  j["fsync_count"] = count;
  j["fsync_us_median"] = micros[micros.size() / 2];
  j["fsync_us_p90"] = micros[micros.size() * 9 / 10];
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

int Main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  Result<Flags> flags = Flags::Parse(argc, argv);
  Status status = flags.status();
  if (status.ok()) {
    if (command == "prepare") {
      status = Prepare(*flags);
    } else if (command == "run") {
      status = Run(*flags);
    } else if (command == "fsync") {
      status = FsyncProbe(*flags);
    } else {
      status = InvalidArgumentError("usage: store_benchmark prepare|run|fsync --flag value ...");
    }
  }
  if (!status.ok()) {
    std::fprintf(stderr, "store_benchmark: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) { return eds::bench::Main(argc, argv); }
