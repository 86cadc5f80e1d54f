// FactIndex: every patient's facts, decoded, in memory, kept current by the store's write path
// (storage::FactObserver), so the engine computes a release without decrypting or decoding
// anything. Laid out for the engine's questions: per patient, per resource type, events sorted
// by day (a period's window is a binary search), codes and labels as dictionary numbers (a
// population's code list becomes a lookup table once per release).
//
// It holds pseudonymised analytic facts only (no identifier, name or exact birth date), in the
// daemon's memory, which is never dumped (edsd turns core dumps off).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "ingest/facts.h"
#include "storage/fact_observer.h"

namespace eds::aggregate {

inline constexpr size_t kFactTypes = 11;  // ingest::FactType values 1..10, indexed directly

// One fact of a patient. Codes are numbers in the FactTable's code dictionary, kept in the
// patient's code list: n_codes main codes from `codes`, then n_value_codes value codes.
struct FactRow {
  uint64_t record = 0;  // the first 8 bytes of the record's keyed hash: what a new version replaces
  int32_t day = ingest::kUnknownDay;
  int32_t end_day = ingest::kUnknownDay;
  uint32_t codes = 0;
  uint32_t care_unit = 0;        // label number (0: none)
  uint32_t encounter_class = 0;  // label number (0: none)
  int32_t age_months = ingest::kUnknownAge;
  uint16_t n_codes = 0;
  uint16_t n_value_codes = 0;
  ingest::Sex sex = ingest::Sex::kUnknown;
};

struct PatientFacts {
  uint64_t no = 0;  // the store's patient number
  // By ingest::FactType; sorted by day. Patient rows are the demographics (day: birth month,
  // end_day: death); the one of the highest record key wins, as in a scan in key order.
  std::array<std::vector<FactRow>, kFactTypes> rows;
  std::vector<uint32_t> codes;
  size_t dead_codes = 0;  // entries of `codes` no row points to any more

  const FactRow* Demographics() const;
};

// The data. Read it under FactIndex::Read.
class FactTable {
 public:
  FactTable();
  const std::vector<PatientFacts>& patients() const { return patients_; }
  const ingest::FactCode& code(uint32_t id) const { return codes_[id]; }
  size_t code_count() const { return codes_.size(); }
  const std::string& label(uint32_t id) const { return labels_[id]; }
  size_t label_count() const { return labels_.size(); }
  uint64_t rows() const { return rows_; }
  // kDataLoss once a change could not be decoded: the index is then incomplete.
  const Status& error() const { return error_; }

  void Apply(const std::vector<storage::FactChange>& changes);
  // Gives back what the lists reserved to grow (after a load).
  void ShrinkToFit();

 private:
  PatientFacts& Patient(uint64_t no);
  void Put(uint64_t no, uint64_t record, const std::vector<ingest::Fact>& facts, bool fresh);
  void Remove(PatientFacts& p, uint64_t record);
  void Merge(uint64_t from, uint64_t into);
  void Erase(uint64_t no);
  void CompactCodes(PatientFacts& p);
  uint32_t CodeId(const ingest::FactCode& c);
  uint32_t LabelId(const std::string& s);

  std::vector<PatientFacts> patients_;  // erased patients leave an empty slot
  std::unordered_map<uint64_t, uint32_t> slot_of_;
  std::vector<ingest::FactCode> codes_;
  std::unordered_map<std::string, uint32_t> code_ids_;
  std::vector<std::string> labels_;  // labels_[0] = ""
  std::unordered_map<std::string, uint32_t> label_ids_;
  uint64_t rows_ = 0;
  Status error_;
};

class FactIndex final : public storage::FactObserver {
 public:
  void Apply(const std::vector<storage::FactChange>& changes) override;
  void Clear();
  void ShrinkToFit();

  // Runs fn(const FactTable&) with the index locked (writes of facts wait meanwhile).
  template <typename Fn>
  auto Read(Fn&& fn) {
    MutexLock lock(mu_);
    return fn(static_cast<const FactTable&>(table_));
  }

 private:
  Mutex mu_;
  FactTable table_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::aggregate
