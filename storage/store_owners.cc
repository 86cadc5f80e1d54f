// The owner index (logical id -> patient) on the write path: whether a global id was stored
// before, and a record re-filed under another patient.
#include <rocksdb/db.h>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/column_families.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

Status Store::Impl::Refile(const std::vector<std::pair<PlacedRecord*, uint64_t>>& global,
                           bool complete, std::vector<WriteOp>* ops,
                           std::vector<FactChange>* changes, std::vector<std::string>* replaced) {
  if (global.empty()) return OkStatus();
  std::vector<rocksdb::Slice> hashed;
  hashed.reserve(global.size());
  for (const auto& g : global) hashed.emplace_back(g.first->hashed_id);
  // A record filed under a patient has an owner entry; one filed under none (patient 0) has not,
  // so the ids without an owner are looked for there.
  std::vector<rocksdb::PinnableSlice> owners;
  EDS_ASSIGN_OR_RETURN(const std::vector<bool> owned, MultiGet(Cf::kOwners, hashed, &owners));
  std::vector<std::pair<size_t, uint64_t>> moved;  // (index in `global`, its former patient)
  std::vector<size_t> unowned;
  std::vector<std::string> shared_keys;
  for (size_t i = 0; i < global.size(); ++i) {
    const uint64_t no = global[i].second;
    if (owned[i]) {
      if (owners[i].size() != 8) return DataLossError("owner index entry is corrupt");
      global[i].first->stored_before = true;
      const uint64_t before = GetBigEndian64(std::string_view(owners[i].data(), 8));
      global[i].first->owned_here = before == no;
      if (before != no) moved.emplace_back(i, before);
    } else if (no != 0 || complete) {
      unowned.push_back(i);
      shared_keys.push_back(internal::RecordKey(0, global[i].first->hashed_id));
    }
  }
  if (!shared_keys.empty()) {
    std::vector<rocksdb::PinnableSlice> values;
    EDS_ASSIGN_OR_RETURN(const std::vector<bool> shared,
                         MultiGet(Cf::kRecords, {shared_keys.begin(), shared_keys.end()}, &values));
    for (size_t k = 0; k < shared.size(); ++k) {
      if (!shared[k]) continue;
      const size_t i = unowned[k];
      global[i].first->stored_before = true;
      if (global[i].second != 0) moved.emplace_back(i, 0);
    }
  }
  for (const auto& [i, before] : moved) {
    const std::string& hashed_id = global[i].first->hashed_id;
    const std::string old_key = internal::RecordKey(before, hashed_id);
    ops->push_back({WriteOp::Kind::kDelete, Cf::kRecords, old_key, ""});
    ops->push_back({WriteOp::Kind::kDelete, Cf::kFacts, old_key, ""});
    // Filed under no patient now: nothing puts the owner entry again.
    if (global[i].second == 0) {
      ops->push_back({WriteOp::Kind::kDelete, Cf::kOwners, hashed_id, ""});
    }
    changes->push_back({FactChange::Kind::kPut, before, 0, hashed_id, ""});
    replaced->push_back(old_key);
  }
  return OkStatus();
}

}  // namespace eds::storage
