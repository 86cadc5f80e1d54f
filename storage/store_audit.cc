// Audit log verification and listing.
#include <rocksdb/db.h>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;

Result<AuditVerifyReport> Store::VerifyAudit() {
  AuditVerifyReport report;
  // One snapshot, so appends made meanwhile do not look like a broken end.
  const rocksdb::Snapshot* snap = impl_->db->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  auto fail = [&report](uint64_t seq, std::string reason) {
    report.intact = false;
    report.first_broken = seq;
    report.reason = std::move(reason);
  };
  std::string prev(kAuditHashSize, '\0');
  uint64_t expected = 1;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(Cf::kAudit)));
  for (it->SeekToFirst(); it->Valid() && report.intact; it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const uint64_t seq = key.size() == 8 ? GetBigEndian64(key) : 0;
    if (seq != expected) {
      fail(expected, "entry " + std::to_string(expected) + " is missing");
      break;
    }
    Result<AuditEntry> entry =
        impl_->chain->Open(std::string_view(it->value().data(), it->value().size()));
    if (!entry.ok()) {
      fail(seq, entry.status().message());
    } else if (entry->seq != seq) {
      fail(seq, "entry stored as " + std::to_string(seq) + " claims to be " +
                    std::to_string(entry->seq));
    } else if (entry->prev_hash != prev) {
      fail(seq, "entry " + std::to_string(seq) + " does not link to entry " +
                    std::to_string(seq - 1) + " (removed, reordered or replaced)");
    } else {
      prev = entry->hash;
      ++report.entries;
      ++expected;
    }
  }
  Status iter_status = FromRocksStatus(it->status(), "reading the audit log");
  std::string head;
  rocksdb::Status hs = impl_->db->Get(ro, impl_->cf(Cf::kMeta), internal::kAuditHeadKey, &head);
  it.reset();
  impl_->db->ReleaseSnapshot(snap);
  EDS_RETURN_IF_ERROR(iter_status);
  if (report.intact) {
    const uint64_t last = expected - 1;
    if (!hs.ok() || head.size() != 8 + kAuditHashSize) {
      if (last != 0) fail(1, "the audit head record is missing");
    } else if (GetBigEndian64(head) != last || head.substr(8) != prev) {
      fail(last + 1, "the log ends at entry " + std::to_string(last) +
                         " but its head names entry " + std::to_string(GetBigEndian64(head)) +
                         " (entries removed from the end)");
    }
  }
  return report;
}

Result<std::vector<AuditEntry>> Store::ReadAudit(uint64_t from_seq, size_t limit) {
  std::vector<AuditEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kAudit)));
  for (it->Seek(internal::AuditKey(from_seq)); it->Valid() && out.size() < limit; it->Next()) {
    EDS_ASSIGN_OR_RETURN(
        AuditEntry e, impl_->chain->Open(std::string_view(it->value().data(), it->value().size())));
    out.push_back(std::move(e));
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the audit log"));
  return out;
}

}  // namespace eds::storage
