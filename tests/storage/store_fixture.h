// Shared helpers for store tests: a store in a fresh directory with a known master key, and raw
// access to the same RocksDB files for tampering.
#pragma once

#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/internal/column_families.h"
#include "storage/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::storage {

inline AuditEvent TestEvent(std::string action = "test") { return {"test", action, "", ""}; }

// The store's audit chain verifies whole.
inline void ExpectAuditIntact(Store& store) {
  auto audit = store.VerifyAudit();
  ASSERT_THAT(audit, ::eds::testing::IsOk());
  EXPECT_TRUE(audit->intact) << audit->reason;
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : master_(SecretKey::Random()) { options_.data_dir = dir_.Sub("data"); }

  std::unique_ptr<Store> OpenOrDie() {
    auto store = Store::Open(options_, master_.Clone());
    EXPECT_THAT(store, ::eds::testing::IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static std::vector<RecordWrite> Records(const std::string& patient, int n,
                                          const std::string& prefix = "Observation/") {
    std::vector<RecordWrite> out;
    for (int i = 0; i < n; ++i) {
      out.push_back({patient, prefix + std::to_string(i),
                     R"({"resourceType":"Observation","id":")" + std::to_string(i) +
                         R"(","status":"final","valueQuantity":{"value":)" + std::to_string(i) +
                         "}}"});
    }
    return out;
  }

  eds::testing::TempDir dir_;
  SecretKey master_;
  StoreOptions options_;
};

// The raw RocksDB of a closed store, with its column families, for tampering and inspection.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : internal::kCfNames) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    status_ = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &raw);
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  bool ok() const { return status_.ok(); }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(internal::Cf c) { return handles_[static_cast<size_t>(c)]; }
  std::vector<std::pair<std::string, std::string>> All(internal::Cf c) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(c)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    return out;
  }

 private:
  rocksdb::Status status_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

// What the records family of a closed store holds: "block"s, "ref"s (references into blocks) and
// envelopes by version ("v1", "v2").
// Whether `store` holds the record with exactly this payload.
inline Result<bool> Holds(Store& store, std::string patient, std::string logical_id,
                          std::string payload) {
  auto held = store.HoldsEach({{std::move(patient), std::move(logical_id), std::move(payload)}},
                              [](const RecordWrite&) { return true; });
  if (!held.ok()) return held.status();
  return static_cast<bool>(held->front());
}

inline std::map<std::string, int> RecordsLayout(const std::string& data_dir) {
  std::map<std::string, int> kinds;
  RawDb raw(data_dir);
  for (const auto& [key, value] : raw.All(internal::Cf::kRecords)) {
    if (key.size() == internal::kBlockKeySize) {
      ++kinds["block"];
    } else if (static_cast<uint8_t>(value.at(0)) == internal::kRecordRefTag) {
      ++kinds["ref"];
    } else {
      ++kinds["v" + std::to_string(value.at(0))];
    }
  }
  return kinds;
}

}  // namespace eds::storage
