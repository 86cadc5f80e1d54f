// Patients, data keys, erasure and master key rotation.
#include <rocksdb/db.h>

#include <chrono>
#include <thread>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

Status Store::Impl::PurgeDeleted(Cf c, const std::string& begin, const std::string& end) {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  EDS_RETURN_IF_ERROR(FromRocksStatus(db->Flush(fo, handles), "flushing"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const rocksdb::Slice b(begin), e(end);
  EDS_RETURN_IF_ERROR(FromRocksStatus(
      db->CompactRange(co, cf(c), begin.empty() ? nullptr : &b, end.empty() ? nullptr : &e),
      "compacting"));
  // Keys are small: compact the whole family so no older version of a wrapped key survives.
  return FromRocksStatus(db->CompactRange(co, cf(Cf::kKeys), nullptr, nullptr), "compacting keys");
}

Result<ErasureReport> Store::ErasePatient(std::string_view patient, const AuditEvent& event) {
  if (patient.empty()) return InvalidArgumentError("erasure needs a patient");
  const std::string hashed = impl_->HashPseudonym(patient);
  ErasureReport report;
  std::vector<WriteOp> ops;
  uint64_t no = 0;
  {
    MutexLock lock(impl_->key_mu);
    EDS_ASSIGN_OR_RETURN(auto found, impl_->Get(Cf::kKeys, internal::PatientIndexKey(hashed)));
    if (!found || found->size() != 8) return NotFoundError("unknown patient");
    no = GetBigEndian64(*found);
    const std::string begin = internal::RecordKey(no, "");
    const std::string end = internal::RecordKey(no + 1, "");
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kRecords)));
    ops = {{WriteOp::Kind::kDelete, Cf::kKeys, internal::PatientIndexKey(hashed), ""},
           {WriteOp::Kind::kDelete, Cf::kKeys, internal::DataKeyKey(no), ""},
           {WriteOp::Kind::kDeleteRange, Cf::kRecords, begin, end},
           {WriteOp::Kind::kDeleteRange, Cf::kFacts, begin, end}};
    for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      if (it->key().size() == internal::kBlockKeySize) continue;  // a record block
      ++report.records_deleted;
      ops.push_back({WriteOp::Kind::kDelete, Cf::kOwners, it->key().ToString().substr(8), ""});
    }
    EDS_ASSIGN_OR_RETURN(auto buckets, impl_->BucketKeysOf(no));
    for (auto& k : buckets) ops.push_back({WriteOp::Kind::kDelete, Cf::kFactBuckets, k, ""});
    // Aliases are sealed: find this patient's by opening each (erasure is rare).
    std::unique_ptr<rocksdb::Iterator> ait(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kAliases)));
    for (ait->SeekToFirst(); ait->Valid(); ait->Next()) {
      const std::string key = ait->key().ToString();
      auto target =
          OpenBlob(*impl_->alias_key, internal::AliasContext(key), ait->value().ToString());
      if (target.ok() && *target == patient) {
        ops.push_back({WriteOp::Kind::kDelete, Cf::kAliases, key, ""});
      }
    }
    AuditEvent ev = event;
    ev.action = "patient.erase";
    ev.object = "patient " + std::to_string(no);
    ev.detail = std::to_string(report.records_deleted) + " records";
    EDS_RETURN_IF_ERROR(
        impl_->queue->Commit(ops, {ev}, {{FactChange::Kind::kErasePatient, no, 0, "", ""}}));
    impl_->patient_cache.erase(hashed);
    impl_->dek_cache.Erase(no);
  }
  impl_->ForgetDurableIndexes();
  EDS_RETURN_IF_ERROR(impl_->PurgeDeleted(Cf::kRecords, internal::RecordKey(no, ""),
                                          internal::RecordKey(no + 1, "")));
  EDS_RETURN_IF_ERROR(impl_->PurgeDeleted(Cf::kFacts, internal::RecordKey(no, ""),
                                          internal::RecordKey(no + 1, "")));
  EDS_RETURN_IF_ERROR(impl_->PurgeDeleted(Cf::kAliases, "", ""));
  ErasureReport scrub = impl_->ScrubBackups(ops);
  report.backups_scrubbed = std::move(scrub.backups_scrubbed);
  report.backups_unreachable = std::move(scrub.backups_unreachable);
  return report;
}

namespace {

// Re-wrap operations for every wrapped key of one keys column family, from `from` to `to`.
Result<std::vector<WriteOp>> RewrapOps(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* keys,
                                       const KeyRing& from, const KeyRing& to) {
  std::vector<WriteOp> ops;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), keys));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    std::string context;
    if (key.size() == 9 && key[0] == 'p') {
      context = internal::DataKeyContext(GetBigEndian64(key, 1));
    } else if (key.rfind("s/", 0) == 0) {
      context = internal::SecretContext(key);
    } else {
      continue;
    }
    EDS_ASSIGN_OR_RETURN(SecretKey k, from.Unwrap(context, it->value().ToString()));
    ops.push_back({WriteOp::Kind::kPut, Cf::kKeys, key, to.Wrap(context, k)});
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading keys"));
  ops.push_back(
      {WriteOp::Kind::kPut, Cf::kKeys, std::string(internal::kMasterKeyIdKey), to.MasterKeyId()});
  return ops;
}

}  // namespace

Status Store::RotateMasterKey(SecretKey new_master, const AuditEvent& event) {
  // New patients' keys ride in record batches wrapped under the current master key: wait until
  // none is in flight, so no key wrapped under the old master key is written after the switch.
  for (int waited_ms = 0;; ++waited_ms) {
    {
      MutexLock lock(impl_->key_mu);
      if (impl_->pending.empty()) return RotateLocked(std::move(new_master), event);
    }
    if (waited_ms > 5000) return UnavailableError("writes in progress; try the rotation again");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Status Store::RotateLocked(SecretKey new_master, const AuditEvent& event) {
  impl_->key_mu.AssertHeld();  // RotateMasterKey holds it
  auto new_ring = std::make_unique<KeyRing>(std::move(new_master));
  if (new_ring->MasterKeyId() == impl_->ring->MasterKeyId()) {
    return InvalidArgumentError("the new master key is the current one");
  }
  EDS_ASSIGN_OR_RETURN(std::vector<WriteOp> ops,
                       RewrapOps(impl_->db.get(), impl_->cf(Cf::kKeys), *impl_->ring, *new_ring));
  AuditEvent ev = event;
  ev.action = "key.rotate";
  ev.object = HexEncode(impl_->ring->MasterKeyId()) + " -> " + HexEncode(new_ring->MasterKeyId());
  ev.detail = std::to_string(ops.size() - 1) + " keys re-wrapped";
  EDS_RETURN_IF_ERROR(impl_->queue->Commit(ops, {ev}));
  // The live store first, then registered backups follow, so they restore under the new key; one
  // that cannot be reached keeps the old key and is named in the audit entry.
  std::vector<std::string> missed;
  const KeyRing& old_ring = *impl_->ring;  // the backups' keys are wrapped under it too
  for (const auto& path : impl_->RegisteredBackups()) {
    Status s = WithBackupDb(
        path, [&](rocksdb::DB* bdb, std::vector<rocksdb::ColumnFamilyHandle*>& h) -> Status {
          EDS_ASSIGN_OR_RETURN(
              auto bops, RewrapOps(bdb, h[static_cast<size_t>(Cf::kKeys)], old_ring, *new_ring));
          return ApplyAndPurge(bdb, h, bops);
        });
    if (!s.ok()) missed.push_back(path);
  }
  for (const auto& m : missed) {
    impl_->queue
        ->Commit({}, {{event.actor, "key.rotate.backup_missed", m, "backup keeps the old key"}})
        .IgnoreError();
  }
  impl_->ring = std::move(new_ring);
  return impl_->PurgeDeleted(Cf::kKeys, "", "");
}

}  // namespace eds::storage
