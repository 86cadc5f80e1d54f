// Patients: pseudonym -> patient number -> data key, with creation folded into record batches.
#include <rocksdb/db.h>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

namespace {
// The pseudonym cache is dropped wholesale when it grows past this; the index stays in RocksDB.
constexpr size_t kMaxCachedPatients = 65536;
}  // namespace

Status Store::Impl::LoadNextPatientNumber() {
  // Numbers are not counted in a stored counter (concurrent batches could commit it out of
  // order); the next one follows the highest data key present.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(Cf::kKeys)));
  std::string last = "p";
  last.append(8, '\xff');
  it->SeekForPrev(last);
  uint64_t next = 1;
  if (it->Valid() && it->key().size() == 9 && it->key()[0] == 'p') {
    next = GetBigEndian64(std::string_view(it->key().data(), it->key().size()), 1) + 1;
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading keys"));
  MutexLock lock(key_mu);
  next_patient_no = next;
  return OkStatus();
}

Result<uint64_t> Store::Impl::LookupPatient(std::string_view patient) {
  if (patient.empty()) return uint64_t{0};
  const std::string hashed = HashPseudonym(patient);
  MutexLock lock(key_mu);
  if (auto it = patient_cache.find(hashed); it != patient_cache.end()) return it->second;
  EDS_ASSIGN_OR_RETURN(auto found, Get(Cf::kKeys, internal::PatientIndexKey(hashed)));
  if (!found) return NotFoundError("unknown patient");
  if (found->size() != 8) return DataLossError("patient index entry is corrupt");
  const uint64_t no = GetBigEndian64(*found);
  if (patient_cache.size() >= kMaxCachedPatients) patient_cache.clear();
  patient_cache.emplace(hashed, no);
  return no;
}

Result<uint64_t> Store::Impl::ResolveForWrite(
    std::string_view patient, std::vector<WriteOp>* ops, std::vector<AuditEvent>* events,
    std::vector<std::pair<std::string, uint64_t>>* riding) {
  if (patient.empty()) return uint64_t{0};
  const std::string hashed = HashPseudonym(patient);
  MutexLock lock(key_mu);
  if (auto it = patient_cache.find(hashed); it != patient_cache.end()) return it->second;
  auto add_key_ops = [&](uint64_t no, const std::string& wrapped) {
    for (const auto& r : *riding) {
      if (r.first == hashed) return;
    }
    std::string no_bytes;
    PutBigEndian64(no_bytes, no);
    ops->push_back({WriteOp::Kind::kPut, Cf::kKeys, internal::DataKeyKey(no), wrapped});
    ops->push_back({WriteOp::Kind::kPut, Cf::kKeys, internal::PatientIndexKey(hashed), no_bytes});
    riding->emplace_back(hashed, no);
  };
  if (auto it = pending.find(hashed); it != pending.end()) {
    add_key_ops(it->second.no, it->second.wrapped);
    return it->second.no;
  }
  EDS_ASSIGN_OR_RETURN(auto found, Get(Cf::kKeys, internal::PatientIndexKey(hashed)));
  if (found) {
    if (found->size() != 8) return DataLossError("patient index entry is corrupt");
    const uint64_t no = GetBigEndian64(*found);
    if (patient_cache.size() >= kMaxCachedPatients) patient_cache.clear();
    patient_cache.emplace(hashed, no);
    return no;
  }
  const uint64_t no = next_patient_no++;
  const KeyBytes dek = KeyBytes::Random();
  PendingPatient p{no, ring->Wrap(internal::DataKeyContext(no), dek)};
  dek_cache.Put(no, dek);
  pending_wrapped[no] = p.wrapped;
  add_key_ops(no, p.wrapped);
  pending.emplace(hashed, std::move(p));
  events->push_back({"system", "key.create", "patient " + std::to_string(no), ""});
  return no;
}

void Store::Impl::MarkDurable(const std::vector<std::pair<std::string, uint64_t>>& riding) {
  if (riding.empty()) return;
  MutexLock lock(key_mu);
  for (const auto& [hashed, no] : riding) {
    pending.erase(hashed);
    pending_wrapped.erase(no);
    if (patient_cache.size() >= kMaxCachedPatients) patient_cache.clear();
    patient_cache.emplace(hashed, no);
  }
}

Status Store::Impl::DataKey(uint64_t patient_no, KeyBytes* out) {
  MutexLock lock(key_mu);
  if (dek_cache.Get(patient_no, out)) return OkStatus();
  std::string wrapped;
  if (auto it = pending_wrapped.find(patient_no); it != pending_wrapped.end()) {
    wrapped = it->second;
  } else {
    EDS_ASSIGN_OR_RETURN(auto stored, Get(Cf::kKeys, internal::DataKeyKey(patient_no)));
    if (!stored) {
      return NotFoundError("the data key of patient " + std::to_string(patient_no) +
                           " does not exist (erased)");
    }
    wrapped = std::move(*stored);
  }
  EDS_RETURN_IF_ERROR(ring->UnwrapInto(internal::DataKeyContext(patient_no), wrapped, out));
  dek_cache.Put(patient_no, *out);
  return OkStatus();
}

}  // namespace eds::storage
