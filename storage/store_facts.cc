// Facts scans, reads by logical id, and patient merges.
#include <rocksdb/db.h>
#include <sodium.h>

#include <algorithm>
#include <deque>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/column_families.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

Result<uint64_t> Store::PatientNumber(std::string_view patient) {
  return impl_->LookupPatient(patient);
}

Result<std::string> Store::ReadAny(std::string_view logical_id, const AuditEvent& event) {
  const std::string hashed_id = impl_->HashLogicalId(logical_id);
  EDS_ASSIGN_OR_RETURN(auto owner, impl_->Get(Cf::kOwners, hashed_id));
  uint64_t no = 0;
  if (owner) {
    if (owner->size() != 8) return DataLossError("owner index entry is corrupt");
    no = GetBigEndian64(*owner);
  }
  return impl_->ReadRecord(no, hashed_id, event);
}

Result<std::vector<bool>> Store::HoldsEach(const std::vector<RecordWrite>& records,
                                           const std::function<bool(const RecordWrite&)>& which) {
  std::vector<bool> held(records.size(), false);
  const std::string* last_patient = nullptr;
  std::optional<uint64_t> no;  // nullopt: the store has no such patient, so holds none of its
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordWrite& r = records[i];
    if (!which(r)) continue;
    if (last_patient == nullptr || *last_patient != r.patient) {
      last_patient = &r.patient;
      auto found = impl_->LookupPatient(r.patient);
      if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
      no = found.ok() ? std::optional<uint64_t>(*found) : std::nullopt;
    }
    if (!no) continue;
    EDS_ASSIGN_OR_RETURN(const bool h, impl_->HoldsUnder(*no, r.logical_id, r.payload));
    held[i] = h;
  }
  return held;
}

Result<bool> Store::Impl::HoldsUnder(uint64_t no, std::string_view logical_id,
                                     std::string_view payload) {
  const std::string key = internal::RecordKey(no, HashLogicalId(logical_id));
  EDS_ASSIGN_OR_RETURN(auto value, Get(Cf::kRecords, key));
  if (!value) return false;
  KeyBytes dek;
  EDS_RETURN_IF_ERROR(DataKey(no, &dek));
  // A bulk load run again asks about a block's records one after the other: each thread keeps
  // the blocks it opened last, read without a snapshot. That is safe: the collector only blanks
  // slots no reference names, so the slot this record's reference names keeps its bytes.
  thread_local struct {
    uint64_t store = 0;
    std::unique_ptr<RecordOpener> opener;
  } last;
  if (last.store != instance || !last.opener) {
    last.opener = std::make_unique<RecordOpener>(*this, nullptr);
    last.store = instance;
  }
  auto plain = last.opener->Open(key, *value, dek);
  return plain.ok() && *plain == payload;
}

Status Store::ScanFacts(const FactScanFn& fn, const AuditEvent& event) {
  EDS_RETURN_IF_ERROR(impl_->queue->Commit({}, {event}));
  auto it = impl_->ScanIterator(Cf::kFacts);
  return impl_->DecryptAll(
      it.get(), Cf::kFacts, nullptr,
      [&](uint64_t no, std::string_view, std::string plain) { return fn(no, plain); });
}

void Store::Impl::OnCommit(const std::vector<FactChange>& changes) {
  MutexLock lock(observer_mu);
  for (auto& w : watches) {
    if (w->loading) {
      w->pending.insert(w->pending.end(), changes.begin(), changes.end());
    } else {
      w->observer->Apply(changes);
    }
  }
}

Status Store::Impl::LoadFacts(FactObserver* to, const rocksdb::Snapshot* snapshot) {
  constexpr size_t kChunk = 4096;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf(Cf::kFacts)));
  std::vector<FactChange> chunk;
  chunk.reserve(kChunk);
  EDS_RETURN_IF_ERROR(DecryptAll(
      it.get(), Cf::kFacts, snapshot, [&](uint64_t no, std::string_view key, std::string plain) {
        chunk.push_back(
            {FactChange::Kind::kPut, no, 0, std::string(key.substr(8)), std::move(plain), true});
        if (chunk.size() == kChunk) {
          to->Apply(chunk);
          chunk.clear();
        }
        return true;
      }));
  if (!chunk.empty()) to->Apply(chunk);
  return OkStatus();
}

Status Store::WatchFacts(FactObserver* observer, const AuditEvent& event) {
  if (observer == nullptr) return InvalidArgumentError("no facts observer");
  EDS_RETURN_IF_ERROR(impl_->queue->Commit({}, {event}));
  // Registered between two commits, with a snapshot of exactly what they left: every later
  // commit is held back for the observer until the snapshot is loaded.
  const rocksdb::Snapshot* snapshot = nullptr;
  Impl::Watch* watch = nullptr;
  impl_->queue->RunExclusive([&] {
    MutexLock lock(impl_->observer_mu);
    for (const auto& w : impl_->watches) {
      if (w->observer == observer) return;
    }
    impl_->watches.push_back(std::make_unique<Impl::Watch>());
    watch = impl_->watches.back().get();
    watch->observer = observer;
    snapshot = impl_->db->GetSnapshot();
  });
  if (watch == nullptr) return FailedPreconditionError("these facts are already watched");
  const Status loaded = impl_->LoadFacts(observer, snapshot);
  impl_->db->ReleaseSnapshot(snapshot);
  if (!loaded.ok()) {
    UnwatchFacts(observer);
    return loaded;
  }
  MutexLock lock(impl_->observer_mu);
  // Unwatched meanwhile (from another thread): nothing more to hand over.
  const bool still = std::any_of(impl_->watches.begin(), impl_->watches.end(),
                                 [&](const auto& w) { return w.get() == watch; });
  if (!still) return OkStatus();
  if (!watch->pending.empty()) observer->Apply(watch->pending);
  watch->pending = {};
  watch->loading = false;
  return OkStatus();
}

void Store::UnwatchFacts(FactObserver* observer) {
  impl_->queue->RunExclusive([&] {
    MutexLock lock(impl_->observer_mu);
    std::erase_if(impl_->watches, [&](const auto& w) { return w->observer == observer; });
  });
}

Result<std::vector<std::string>> Store::Impl::BucketKeysOf(uint64_t patient_no) {
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), cf(Cf::kFactBuckets)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k(it->key().data(), it->key().size());
    if (k.size() == internal::kBucketHashSize + 8 &&
        GetBigEndian64(k, internal::kBucketHashSize) == patient_no) {
      keys.emplace_back(k);
    }
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading fact buckets"));
  return keys;
}

Result<uint64_t> Store::MergePatients(std::string_view from, std::string_view into,
                                      const AuditEvent& event) {
  if (from.empty() || into.empty()) return InvalidArgumentError("a merge needs two patients");
  if (from == into) return uint64_t{0};
  auto from_no = impl_->LookupPatient(from);
  if (!from_no.ok()) {
    if (from_no.status().code() == StatusCode::kNotFound) return uint64_t{0};
    return from_no.status();
  }
  std::vector<WriteOp> ops;
  std::vector<AuditEvent> events;
  std::vector<std::pair<std::string, uint64_t>> riding;
  EDS_ASSIGN_OR_RETURN(uint64_t into_no, impl_->ResolveForWrite(into, &ops, &events, &riding));
  KeyBytes from_dek;
  KeyBytes into_dek;
  EDS_RETURN_IF_ERROR(impl_->DataKey(*from_no, &from_dek));
  EDS_RETURN_IF_ERROR(impl_->DataKey(into_no, &into_dek));
  std::string into_bytes;
  PutBigEndian64(into_bytes, into_no);
  const std::string begin = internal::RecordKey(*from_no, "");
  const std::string end = internal::RecordKey(*from_no + 1, "");

  // Records and facts are re-encrypted under the survivor's key, at the survivor's keys;
  // records in blocks again when there are several.
  rocksdb::ManagedSnapshot snapshot(impl_->db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  // The plaintexts decrypted here, zeroed on every way out.
  struct Plaintexts : std::deque<std::string> {
    ~Plaintexts() {
      for (auto& p : *this) sodium_memzero(p.data(), p.size());
    }
  } payloads;
  std::vector<Store::Impl::PlacedRecord> placed;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(Cf::kRecords)));
  {
    RecordOpener opener(*impl_, snapshot.snapshot());
    for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      const std::string_view k(it->key().data(), it->key().size());
      if (k.size() == internal::kBlockKeySize) continue;  // read by reference
      EDS_ASSIGN_OR_RETURN(
          std::string plain,
          opener.Open(k, std::string_view(it->value().data(), it->value().size()), from_dek));
      payloads.push_back(std::move(plain));
      placed.push_back({std::string(k.substr(8)), &payloads.back()});
      ops.push_back({WriteOp::Kind::kPut, Cf::kOwners, std::string(k.substr(8)), into_bytes});
    }
    EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the merged patient"));
  }
  const uint64_t moved = placed.size();
  std::vector<Store::Impl::SealJob> jobs;
  std::deque<std::string> bodies;
  impl_->PlaceRecords(into_no, 0, placed, &ops, &bodies, &jobs);
  // A record the survivor had under the same logical id is replaced.
  std::vector<std::string> into_keys;
  for (const auto& p : placed) into_keys.push_back(internal::RecordKey(into_no, p.hashed_id));
  EDS_ASSIGN_OR_RETURN(const uint64_t markers, impl_->MarkReplaced(into_keys, &ops));
  ops.push_back({WriteOp::Kind::kDeleteRange, Cf::kRecords, begin, end});
  it.reset(impl_->db->NewIterator(ro, impl_->cf(Cf::kFacts)));
  for (it->Seek(begin); it->Valid() && it->key().compare(end) < 0; it->Next()) {
    const std::string_view k(it->key().data(), it->key().size());
    EDS_ASSIGN_OR_RETURN(
        std::string plain,
        impl_->codec->Decode(internal::FactsAssociatedData(k),
                             std::string_view(it->value().data(), it->value().size()), from_dek));
    payloads.push_back(std::move(plain));
    jobs.push_back({Store::Impl::SealJob::Kind::kFacts, ops.size(), 0, &payloads.back()});
    ops.push_back({WriteOp::Kind::kPut, Cf::kFacts, internal::RecordKey(into_no, k.substr(8)), ""});
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the merged patient's facts"));
  ops.push_back({WriteOp::Kind::kDeleteRange, Cf::kFacts, begin, end});
  EDS_RETURN_IF_ERROR(impl_->Seal(ops, jobs, {into_dek}));
  EDS_ASSIGN_OR_RETURN(auto buckets, impl_->BucketKeysOf(*from_no));
  for (const auto& k : buckets) ops.push_back({WriteOp::Kind::kDelete, Cf::kFactBuckets, k, ""});
  // Aliases that named the merged patient now name the survivor.
  std::unique_ptr<rocksdb::Iterator> ait(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf(Cf::kAliases)));
  for (ait->SeekToFirst(); ait->Valid(); ait->Next()) {
    const std::string key = ait->key().ToString();
    auto target = OpenBlob(*impl_->alias_key, internal::AliasContext(key), ait->value().ToString());
    if (target.ok() && *target == from) {
      ops.push_back({WriteOp::Kind::kPut, Cf::kAliases, key,
                     SealBlob(*impl_->alias_key, internal::AliasContext(key), into)});
    }
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(ait->status(), "reading aliases"));
  const std::string hashed_from = impl_->HashPseudonym(from);
  ops.push_back({WriteOp::Kind::kDelete, Cf::kKeys, internal::PatientIndexKey(hashed_from), ""});
  ops.push_back({WriteOp::Kind::kDelete, Cf::kKeys, internal::DataKeyKey(*from_no), ""});
  AuditEvent ev = event;
  ev.action = "patient.merge";
  ev.object = "patient " + std::to_string(*from_no) + " into patient " + std::to_string(into_no);
  ev.detail = std::to_string(moved) + " records";
  events.push_back(std::move(ev));
  EDS_RETURN_IF_ERROR(
      impl_->queue->Commit(std::move(ops), std::move(events),
                           {{FactChange::Kind::kMergePatients, *from_no, into_no, "", ""}}));
  impl_->MarkDurable(riding);
  impl_->ForgetDurableIndexes();
  {
    MutexLock lock(impl_->key_mu);
    impl_->patient_cache.erase(hashed_from);
    impl_->dek_cache.Erase(*from_no);
  }
  if (markers > 0) impl_->MaybeCollect(markers);
  return moved;
}

}  // namespace eds::storage
