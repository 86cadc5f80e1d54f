// Store and raw RocksDB sides of the store benchmark (contract in store_targets.h).
#include "bench/store_targets.h"

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <filesystem>

#include "common/status_macros.h"
#include "storage/secret_key.h"

namespace eds::bench {

namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return OkStatus();
  if (s.IsIOError()) return UnavailableError(what + ": " + s.ToString());
  return InternalError(what + ": " + s.ToString());
}

// The store's Scan uses the same read options, so both sides read the files alike.
rocksdb::ReadOptions ScanReadOptions() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  return ro;
}

class EdsTarget : public BenchTarget {
 public:
  EdsTarget(std::string data_dir, size_t dictionary_training_records)
      : master_key_(storage::SecretKey::Random()) {
    options_.data_dir = std::move(data_dir);
    options_.dictionary_training_records = dictionary_training_records;
  }

  Status Open() override {
    EDS_ASSIGN_OR_RETURN(store_, storage::Store::Open(options_, master_key_.Clone()));
    return OkStatus();
  }

  Status Write(const std::vector<storage::RecordWrite>& batch) override {
    EDS_RETURN_IF_ERROR(store_->Write(batch, {"store_benchmark", "record.write", "", ""}));
    const uint64_t written = written_.fetch_add(batch.size()) + batch.size();
    // The dictionary is trained in the background; until it is current, records are compressed
    // without one. Stats() is cheap next to a synced batch and is only polled until then.
    if (!dictionary_seen_.load() && store_->Stats().dictionary_id != 0 &&
        !dictionary_seen_.exchange(true)) {
      records_before_dictionary_ = written;
    }
    return OkStatus();
  }

  Result<ScanTotals> Scan() override {
    ScanTotals totals;
    EDS_RETURN_IF_ERROR(store_->Scan(
        [&totals](uint64_t, std::string_view payload) {
          ++totals.records;
          totals.payload_bytes += payload.size();
          return true;
        },
        {"store_benchmark", "record.scan", "all", ""}));
    return totals;
  }

  Status Close() override {
    if (store_) dictionary_id_ = store_->Stats().dictionary_id;
    store_.reset();  // the destructor flushes and waits for dictionary training
    return OkStatus();
  }

  void Describe(nlohmann::json& report) const override {
    report["dictionary_training_records"] = options_.dictionary_training_records;
    report["dictionary_id"] = dictionary_id_;
    // Approximate to one batch per writer thread: the poll runs after each synced batch.
    report["records_before_dictionary"] =
        dictionary_seen_.load() ? records_before_dictionary_.load() : written_.load();
  }

 private:
  storage::StoreOptions options_;
  storage::SecretKey master_key_;
  std::unique_ptr<storage::Store> store_;
  std::atomic<uint64_t> written_{0};
  std::atomic<bool> dictionary_seen_{false};
  std::atomic<uint64_t> records_before_dictionary_{0};
  uint32_t dictionary_id_ = 0;
};

class RawTarget : public BenchTarget {
 public:
  explicit RawTarget(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  Status Open() override {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.compression = rocksdb::kNoCompression;
    // The store's records column family uses the same memtable size.
    options.write_buffer_size = 32 << 20;
    rocksdb::DB* db = nullptr;
    EDS_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, data_dir_, &db), "opening RocksDB"));
    db_.reset(db);
    return OkStatus();
  }

  Status Write(const std::vector<storage::RecordWrite>& batch) override {
    rocksdb::WriteBatch wb;
    std::string key;
    for (const auto& r : batch) {
      // Patient first, so records cluster by patient as the store's keys do.
      key.assign(r.patient).append(1, '/').append(r.logical_id);
      EDS_RETURN_IF_ERROR(FromRocks(wb.Put(key, r.payload), "batching"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Write(wo, &wb), "writing");
  }

  Result<ScanTotals> Scan() override {
    ScanTotals totals;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ScanReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++totals.records;
      totals.payload_bytes += it->value().size();
    }
    EDS_RETURN_IF_ERROR(FromRocks(it->status(), "scanning"));
    return totals;
  }

  Status Close() override {
    if (!db_) return OkStatus();
    // The store flushes on close too; both sides then leave the same kind of files behind.
    EDS_RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions()), "flushing"));
    const rocksdb::Status s = db_->Close();
    db_.reset();
    return FromRocks(s, "closing");
  }

  void Describe(nlohmann::json& report) const override {
    report["raw_compression"] = "none";
    report["raw_write_buffer_mib"] = 32;
  }

 private:
  std::string data_dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<BenchTarget> MakeEdsTarget(const std::string& data_dir,
                                           size_t dictionary_training_records) {
  return std::make_unique<EdsTarget>(data_dir, dictionary_training_records);
}

std::unique_ptr<BenchTarget> MakeRawTarget(const std::string& data_dir) {
  return std::make_unique<RawTarget>(data_dir);
}

Status CompactOffline(const std::string& data_dir) {
  rocksdb::ConfigOptions config;
  config.env = rocksdb::Env::Default();
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  std::shared_ptr<rocksdb::Cache> cache;
  EDS_RETURN_IF_ERROR(
      FromRocks(rocksdb::LoadLatestOptions(config, data_dir, &db_options, &cfs, &cache),
                "loading the options of " + data_dir));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EDS_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(db_options, data_dir, cfs, &handles, &raw), "opening"));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  Status status;
  for (auto* h : handles) {
    if (status.ok()) status = FromRocks(db->CompactRange(co, h, nullptr, nullptr), "compacting");
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  const rocksdb::Status closed = db->Close();
  EDS_RETURN_IF_ERROR(status);
  return FromRocks(closed, "closing");
}

DiskUsage MeasureDisk(const std::string& data_dir) {
  namespace fs = std::filesystem;
  DiskUsage usage;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const uint64_t size = it->file_size(ec);
    usage.total_bytes += size;
    if (it->path().extension() == ".sst") usage.sst_bytes += size;
  }
  return usage;
}

}  // namespace eds::bench
