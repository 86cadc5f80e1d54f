// The outbox column family: entries sealed under the system data key (patient number 0), in
// sequence order, with a durable high-water mark so sequences are never reused.
#include <rocksdb/db.h>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/column_families.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

Status Store::Impl::OutboxOps(const std::vector<OutboxWrite>& outbox, std::vector<WriteOp>* ops) {
  if (outbox.empty()) return OkStatus();
  KeyBytes dek;
  EDS_RETURN_IF_ERROR(DataKey(0, &dek));
  EDS_ASSIGN_OR_RETURN(uint64_t last, [&]() -> Result<uint64_t> {
    EDS_ASSIGN_OR_RETURN(auto mark, Get(Cf::kMeta, internal::kOutboxLastKey));
    if (!mark) return uint64_t{0};
    if (mark->size() != 8) return DataLossError("outbox sequence mark is corrupt");
    return GetBigEndian64(*mark);
  }());
  uint64_t highest = last;
  for (const OutboxWrite& w : outbox) {
    std::string key = internal::OutboxKey(w.seq);
    if (!w.value) {
      ops->push_back({WriteOp::Kind::kDelete, Cf::kOutbox, std::move(key), ""});
      continue;
    }
    if (w.seq <= last) {
      return InvalidArgumentError("outbox sequence " + std::to_string(w.seq) +
                                  " was already used (last " + std::to_string(last) + ")");
    }
    EDS_ASSIGN_OR_RETURN(std::string sealed,
                         codec->Encode(internal::OutboxAssociatedData(key), *w.value, dek));
    ops->push_back({WriteOp::Kind::kPut, Cf::kOutbox, std::move(key), std::move(sealed)});
    highest = std::max(highest, w.seq);
  }
  if (highest != last) {
    std::string mark;
    PutBigEndian64(mark, highest);
    ops->push_back({WriteOp::Kind::kPut, Cf::kMeta, std::string(internal::kOutboxLastKey), mark});
  }
  return OkStatus();
}

Result<std::vector<OutboxEntry>> Store::ReadOutbox(size_t limit) {
  KeyBytes dek;
  EDS_RETURN_IF_ERROR(impl_->DataKey(0, &dek));
  std::vector<OutboxEntry> entries;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kOutbox)));
  for (it->SeekToFirst(); it->Valid() && entries.size() < limit; it->Next()) {
    const std::string key = it->key().ToString();
    if (key.size() != 8) return DataLossError("outbox key is corrupt");
    EDS_ASSIGN_OR_RETURN(
        std::string value,
        impl_->codec->Decode(internal::OutboxAssociatedData(key), it->value().ToStringView(), dek));
    entries.push_back({GetBigEndian64(key), std::move(value)});
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "outbox read"));
  return entries;
}

Result<uint64_t> Store::LastOutboxSequence() {
  EDS_ASSIGN_OR_RETURN(auto mark, impl_->Get(Cf::kMeta, internal::kOutboxLastKey));
  if (!mark) return uint64_t{0};
  if (mark->size() != 8) return DataLossError("outbox sequence mark is corrupt");
  return GetBigEndian64(*mark);
}

}  // namespace eds::storage
