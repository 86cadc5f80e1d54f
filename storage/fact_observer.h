// FactObserver: what keeps a copy of the facts current (the aggregate engine's in-memory index).
// The store hands it every durable change of facts, in commit order, from the write path: a
// change that is acknowledged is in the observer before the writer returns, and no change of an
// earlier commit can arrive after one of a later commit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eds::storage {

struct FactChange {
  enum class Kind { kPut, kErasePatient, kMergePatients };
  Kind kind = Kind::kPut;
  uint64_t patient = 0;  // the record's patient; the erased patient; the merged (gone) patient
  uint64_t into = 0;     // kMergePatients: the survivor
  std::string record;    // kPut: the keyed hash of the record's logical id
  std::string facts;     // kPut: the facts as written; "" when the record has none any more
  bool fresh = false;    // kPut: the observer holds no earlier version (the initial load)
};

class FactObserver {
 public:
  virtual ~FactObserver() = default;
  // Called on the store's write path, serially: keep it short, never call back into the store.
  virtual void Apply(const std::vector<FactChange>& changes) = 0;
};

}  // namespace eds::storage
