#include "aggregate/fact_index.h"

#include <algorithm>

#include "common/encoding.h"

namespace eds::aggregate {
namespace {

using storage::FactChange;

size_t TypeIndex(ingest::FactType t) { return static_cast<size_t>(t); }

uint64_t RecordNumber(const std::string& hashed_id) {
  if (hashed_id.size() >= 8) return GetBigEndian64(hashed_id);
  std::string padded = hashed_id;
  padded.resize(8, '\0');
  return GetBigEndian64(padded);
}

}  // namespace

const FactRow* PatientFacts::Demographics() const {
  const auto& list = rows[TypeIndex(ingest::FactType::kPatient)];
  const FactRow* best = nullptr;
  for (const auto& r : list) {
    if (best == nullptr || r.record > best->record) best = &r;
  }
  return best;
}

FactTable::FactTable() {
  labels_.emplace_back();
  label_ids_.emplace("", 0);
}

uint32_t FactTable::CodeId(const ingest::FactCode& c) {
  std::string key;
  key.reserve(2 + c.system_uri.size() + c.code.size());
  key.push_back(static_cast<char>(c.system));
  key += c.system_uri;
  key.push_back('\0');
  key += c.code;
  auto [it, added] = code_ids_.try_emplace(std::move(key), static_cast<uint32_t>(codes_.size()));
  if (added) codes_.push_back(c);
  return it->second;
}

uint32_t FactTable::LabelId(const std::string& s) {
  auto [it, added] = label_ids_.try_emplace(s, static_cast<uint32_t>(labels_.size()));
  if (added) labels_.push_back(s);
  return it->second;
}

PatientFacts& FactTable::Patient(uint64_t no) {
  auto [it, added] = slot_of_.try_emplace(no, static_cast<uint32_t>(patients_.size()));
  if (added) {
    patients_.emplace_back();
    patients_.back().no = no;
  }
  return patients_[it->second];
}

void FactTable::Remove(PatientFacts& p, uint64_t record) {
  for (auto& list : p.rows) {
    auto gone = std::remove_if(list.begin(), list.end(), [&](const FactRow& r) {
      if (r.record != record) return false;
      p.dead_codes += r.n_codes + r.n_value_codes;
      return true;
    });
    rows_ -= static_cast<uint64_t>(list.end() - gone);
    list.erase(gone, list.end());
  }
  if (p.dead_codes > 64 && p.dead_codes * 2 > p.codes.size()) CompactCodes(p);
}

void FactTable::CompactCodes(PatientFacts& p) {
  std::vector<uint32_t> kept;
  kept.reserve(p.codes.size() - p.dead_codes);
  for (auto& list : p.rows) {
    for (auto& r : list) {
      const auto first = p.codes.begin() + r.codes;
      const uint32_t at = static_cast<uint32_t>(kept.size());
      kept.insert(kept.end(), first, first + r.n_codes + r.n_value_codes);
      r.codes = at;
    }
  }
  p.codes = std::move(kept);
  p.dead_codes = 0;
}

void FactTable::Put(uint64_t no, uint64_t record, const std::vector<ingest::Fact>& facts,
                    bool fresh) {
  PatientFacts& p = Patient(no);
  if (!fresh) Remove(p, record);
  for (const auto& f : facts) {
    const size_t type = TypeIndex(f.type);
    if (type == 0 || type >= kFactTypes) continue;  // DecodeFacts admits only known types
    FactRow row;
    row.record = record;
    row.day = f.day;
    row.end_day = f.end_day;
    row.age_months = f.age_months;
    row.sex = f.sex;
    row.encounter_class = LabelId(f.encounter_class);
    row.care_unit = LabelId(f.care_unit);
    row.codes = static_cast<uint32_t>(p.codes.size());
    row.n_codes = static_cast<uint16_t>(std::min<size_t>(f.codes.size(), UINT16_MAX));
    row.n_value_codes = static_cast<uint16_t>(std::min<size_t>(f.value_codes.size(), UINT16_MAX));
    for (size_t i = 0; i < row.n_codes; ++i) p.codes.push_back(CodeId(f.codes[i]));
    for (size_t i = 0; i < row.n_value_codes; ++i) p.codes.push_back(CodeId(f.value_codes[i]));
    auto& list = p.rows[type];
    auto at = std::upper_bound(list.begin(), list.end(), row.day,
                               [](int32_t day, const FactRow& r) { return day < r.day; });
    list.insert(at, row);
    ++rows_;
  }
}

void FactTable::Erase(uint64_t no) {
  auto it = slot_of_.find(no);
  if (it == slot_of_.end()) return;
  PatientFacts& p = patients_[it->second];
  for (auto& list : p.rows) {
    rows_ -= list.size();
    std::vector<FactRow>().swap(list);
  }
  std::vector<uint32_t>().swap(p.codes);
  p.dead_codes = 0;
}

void FactTable::Merge(uint64_t from, uint64_t into) {
  auto it = slot_of_.find(from);
  if (it == slot_of_.end() || from == into) return;
  // Copied out first: Patient(into) may grow patients_ and move `from`'s slot.
  PatientFacts moved = std::move(patients_[it->second]);
  patients_[it->second] = PatientFacts{};
  patients_[it->second].no = from;
  PatientFacts& survivor = Patient(into);
  // A merged record keeps its key: a version of it already at the survivor is replaced.
  std::vector<uint64_t> records;
  for (const auto& list : moved.rows) {
    for (const auto& r : list) records.push_back(r.record);
  }
  std::sort(records.begin(), records.end());
  records.erase(std::unique(records.begin(), records.end()), records.end());
  for (uint64_t record : records) Remove(survivor, record);
  for (size_t type = 0; type < kFactTypes; ++type) {
    auto& target = survivor.rows[type];
    for (const auto& r : moved.rows[type]) {
      FactRow row = r;
      row.codes = static_cast<uint32_t>(survivor.codes.size());
      const auto first = moved.codes.begin() + r.codes;
      survivor.codes.insert(survivor.codes.end(), first, first + r.n_codes + r.n_value_codes);
      target.insert(std::upper_bound(target.begin(), target.end(), row.day,
                                     [](int32_t day, const FactRow& x) { return day < x.day; }),
                    row);
    }
  }
}

void FactTable::Apply(const std::vector<FactChange>& changes) {
  for (const auto& c : changes) {
    switch (c.kind) {
      case FactChange::Kind::kPut: {
        std::vector<ingest::Fact> facts;
        if (!c.facts.empty()) {
          auto decoded = ingest::DecodeFacts(c.facts);
          if (!decoded.ok()) {
            if (error_.ok()) error_ = decoded.status();
            continue;
          }
          facts = std::move(*decoded);
        }
        Put(c.patient, RecordNumber(c.record), facts, c.fresh);
        break;
      }
      case FactChange::Kind::kErasePatient:
        Erase(c.patient);
        break;
      case FactChange::Kind::kMergePatients:
        Merge(c.patient, c.into);
        break;
    }
  }
}

void FactTable::ShrinkToFit() {
  for (auto& p : patients_) {
    for (auto& list : p.rows) list.shrink_to_fit();
    p.codes.shrink_to_fit();
  }
  patients_.shrink_to_fit();
}

void FactIndex::ShrinkToFit() {
  MutexLock lock(mu_);
  table_.ShrinkToFit();
}

void FactIndex::Clear() {
  MutexLock lock(mu_);
  table_ = FactTable();
}

void FactIndex::Apply(const std::vector<FactChange>& changes) {
  MutexLock lock(mu_);
  table_.Apply(changes);
}

}  // namespace eds::aggregate
