// The two sides of the store benchmark behind one interface. MakeEdsTarget drives
// eds::storage::Store (durable Write, decrypting and decompressing Scan); MakeRawTarget drives
// plain RocksDB with the same plaintext JSON, no compression, no encryption, WAL on and every
// batch synced. Write is thread-safe; Open, Scan and Close are called from one thread.
// Errors are the store's own, or RocksDB's mapped to kUnavailable / kInternal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "storage/store.h"

namespace eds::bench {

struct ScanTotals {
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
};

class BenchTarget {
 public:
  virtual ~BenchTarget() = default;
  // Opens the data dir, creating it when missing. May follow Close.
  virtual Status Open() = 0;
  // One batch, durable (WAL fsynced) when OK.
  virtual Status Write(const std::vector<storage::RecordWrite>& batch) = 0;
  // Reads every record, on the calling thread only.
  virtual Result<ScanTotals> Scan() = 0;
  // Flushes the memtables and closes.
  virtual Status Close() = 0;
  // Side-specific facts for the report.
  virtual void Describe(nlohmann::json& report) const = 0;
};

// `dictionary_training_records` is StoreOptions::dictionary_training_records.
std::unique_ptr<BenchTarget> MakeEdsTarget(const std::string& data_dir,
                                           size_t dictionary_training_records);
std::unique_ptr<BenchTarget> MakeRawTarget(const std::string& data_dir);

// Opens a closed data dir with the options it was last written with (its OPTIONS file) and
// compacts every column family down to the bottom level, so both sides are measured equally
// compacted.
Status CompactOffline(const std::string& data_dir);

struct DiskUsage {
  uint64_t total_bytes = 0;  // every file under the dir (SST, WAL, MANIFEST, OPTIONS, LOG)
  uint64_t sst_bytes = 0;
};
DiskUsage MeasureDisk(const std::string& data_dir);

}  // namespace eds::bench
