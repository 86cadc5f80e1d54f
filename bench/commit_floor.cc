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
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Config {
  std::string dir;
  uint64_t writers = 8, records = 11, facts = 8, owners = 9, block_bytes = 2048, seconds = 5,
           sync = 1;
};

bool Parse(int argc, char** argv, Config* c) {
  std::map<std::string, uint64_t*> numbers = {
      {"--writers", &c->writers},         {"--records", &c->records}, {"--facts", &c->facts},
      {"--owners", &c->owners},           {"--seconds", &c->seconds}, {"--sync", &c->sync},
      {"--block-bytes", &c->block_bytes},
  };
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--dir") {
      c->dir = argv[i + 1];
    } else if (auto it = numbers.find(name); it != numbers.end()) {
      char* end = nullptr;
      *it->second = std::strtoull(argv[i + 1], &end, 10);
      if (*end != '\0') return false;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !c->dir.empty() && c->writers > 0 && c->seconds > 0 && c->records > 0;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
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

}  // namespace

int main(int argc, char** argv) {
  Config c;
  if (!Parse(argc, argv, &c)) {
    std::fprintf(stderr,
                 "usage: commit_floor --dir DIR [--writers 8] [--records 11] [--facts 8] "
                 "[--owners 9] [--block-bytes 2048] [--seconds 5] [--sync 1]\n");
    return 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(c.dir, ec) && !std::filesystem::is_empty(c.dir, ec)) {
    std::fprintf(stderr, "commit_floor: %s is not empty: every run needs a fresh dir\n",
                 c.dir.c_str());
    return 1;
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
  if (!opened.ok()) {
    std::fprintf(stderr, "commit_floor: %s\n", opened.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> commits{0}, failures{0};
  std::vector<std::thread> writers;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t w = 0; w < c.writers; ++w) {
    writers.emplace_back([&, w] {
      RandomSlices random(w + 1);
      rocksdb::WriteOptions wo;
      wo.sync = c.sync != 0;
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
        if (db->Write(wo, &batch).ok()) {
          commits.fetch_add(1, std::memory_order_relaxed);
        } else {
          failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(c.seconds));
  stop = true;
  for (auto& t : writers) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db.reset();

  const auto n = static_cast<double>(commits.load());
  nlohmann::json j;
  j["writers"] = c.writers;
  j["keys_per_commit"] = c.records + c.facts + c.owners;
  j["sync"] = c.sync != 0;
  j["commits"] = commits.load();
  j["failures"] = failures.load();
  j["commits_per_s"] = n / seconds;
  j["cpu_cores"] = cpu / seconds;
  j["cpu_ms_per_commit"] = n > 0 ? cpu * 1000 / n : 0;
  std::printf("%s\n", j.dump().c_str());
  return failures.load() == 0 ? 0 : 1;
}
