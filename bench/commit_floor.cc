// commit_floor: how many synced writes per second RocksDB alone commits on this machine from
// concurrent writers, each waiting for its own write, with the key count and sizes of one HL7 v2
// message's write in edsd and nothing else (no parsing, mapping, sealing or sockets). It bounds
// what the MLLP feed can acknowledge. Run by hand, never by ctest.
//   commit_floor --dir DIR [--writers 8] [--records 11] [--facts 8] [--owners 9]
//                [--block-bytes 2048] [--seconds 5] [--sync 1]
// The defaults are an ORU^R01 of the ingest benchmark's corpus: 11 record keys (one a block of
// the message's sealed resources, the rest 10-byte references), 8 sealed facts values (64
// bytes) and 9 owner entries (8 bytes), in three column families with edsd's 16 MiB memtables.
// Keys are random 24- or 16-byte strings, as keyed hashes are. One JSON line on stdout.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

struct Config {
  std::string dir;
  uint64_t writers = 8, records = 11, facts = 8, owners = 9, block_bytes = 2048, seconds = 5;
  bool sync = true;
};

Result<Config> ParseConfig(int argc, char** argv) {
  EDS_ASSIGN_OR_RETURN(Flags flags, Flags::Parse(argc, argv, 1));
  Config c;
  EDS_ASSIGN_OR_RETURN(c.dir, flags.String("dir"));
  EDS_ASSIGN_OR_RETURN(c.writers, flags.Number("writers", c.writers));
  EDS_ASSIGN_OR_RETURN(c.records, flags.Number("records", c.records));
  EDS_ASSIGN_OR_RETURN(c.facts, flags.Count("facts", c.facts));
  EDS_ASSIGN_OR_RETURN(c.owners, flags.Count("owners", c.owners));
  EDS_ASSIGN_OR_RETURN(c.block_bytes, flags.Number("block-bytes", c.block_bytes));
  EDS_ASSIGN_OR_RETURN(c.seconds, flags.Number("seconds", c.seconds));
  EDS_ASSIGN_OR_RETURN(const uint64_t sync, flags.Count("sync", 1));
  if (sync > 1) return InvalidArgumentError("--sync is 0 or 1");
  c.sync = sync == 1;
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  return c;
}

// Random bytes without spending the writers' CPU on a generator: slices of a random pool at
// random offsets.
class RandomSlices {
 public:
  explicit RandomSlices(uint64_t seed) : rng_(seed), pool_(kPoolBytes, '\0') {
    for (auto& ch : pool_) ch = static_cast<char>(rng_());
  }
  rocksdb::Slice Take(size_t n) {
    const size_t at = static_cast<size_t>(rng_() % (kPoolBytes - n));
    return {pool_.data() + at, n};
  }

 private:
  static constexpr size_t kPoolBytes = 1 << 20;
  std::mt19937_64 rng_;
  std::string pool_;
};

Status Run(const Config& c) {
  std::error_code ec;
  if (std::filesystem::exists(c.dir, ec) && !std::filesystem::is_empty(c.dir, ec)) {
    return FailedPreconditionError(c.dir + " is not empty: every run needs a fresh dir");
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = 16 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {"records", cf_options},
      {"facts", cf_options},
      {"owners", cf_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::Open(db_options, c.dir, cfs, &handles, &raw);
  if (!opened.ok()) return UnavailableError("opening " + c.dir + ": " + opened.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> commits{0}, failures{0};
  std::vector<std::thread> writers;
  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = Clock::now();
  for (uint64_t w = 0; w < c.writers; ++w) {
    writers.emplace_back([&, w] {
      RandomSlices random(w + 1);
      rocksdb::WriteOptions wo;
      wo.sync = c.sync;
      while (!stop.load(std::memory_order_relaxed)) {
        rocksdb::WriteBatch batch;
        batch.Put(handles[1], random.Take(16), random.Take(c.block_bytes));
        for (uint64_t i = 1; i < c.records; ++i) {
          batch.Put(handles[1], random.Take(24), random.Take(10));
        }
        for (uint64_t i = 0; i < c.facts; ++i) {
          batch.Put(handles[2], random.Take(24), random.Take(64));
        }
        for (uint64_t i = 0; i < c.owners; ++i) {
          batch.Put(handles[3], random.Take(16), random.Take(8));
        }
        (db->Write(wo, &batch).ok() ? commits : failures).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(c.seconds));
  stop = true;
  for (auto& t : writers) t.join();
  const double seconds = Seconds(t0, Clock::now());
  const double cpu = ProcessCpuSeconds() - cpu0;
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db.reset();
  if (failures.load() > 0) {
    return InternalError(std::to_string(failures.load()) + " writes failed");
  }

  const auto n = static_cast<double>(commits.load());
  nlohmann::json j;
  j["writers"] = c.writers;
  j["keys_per_commit"] = c.records + c.facts + c.owners;
  j["sync"] = c.sync;
  j["commits"] = commits.load();
  j["commits_per_s"] = n / seconds;
  j["cpu_cores"] = cpu / seconds;
  j["cpu_ms_per_commit"] = n > 0 ? cpu * 1000 / n : 0;
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

int Main(int argc, char** argv) {
  auto config = ParseConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr,
                 "commit_floor: %s\nusage: commit_floor --dir DIR [--writers 8] [--records 11] "
                 "[--facts 8] [--owners 9] [--block-bytes 2048] [--seconds 5] [--sync 1]\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  const Status status = Run(*config);
  if (!status.ok()) {
    std::fprintf(stderr, "commit_floor: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) { return eds::bench::Main(argc, argv); }
