#include "aggregate/engine.h"

#include <algorithm>

#include "common/status_macros.h"
#include "storage/key_ring.h"

namespace eds::aggregate {
namespace {

using ingest::CodeSystem;
using ingest::FactCode;
using ingest::FactType;
using ingest::Sex;

bool CodeMatches(const std::vector<CodeFilter>& filters, const FactCode& c) {
  for (const auto& f : filters) {
    if (c.system != f.system) continue;
    if (f.system == CodeSystem::kOther && c.system_uri != f.system_uri) continue;
    if (f.codes.empty() && f.prefixes.empty()) return true;
    if (std::find(f.codes.begin(), f.codes.end(), c.code) != f.codes.end()) return true;
    for (const auto& p : f.prefixes) {
      if (c.code.compare(0, p.size(), p) == 0) return true;
    }
  }
  return false;
}

std::string SexLabel(Sex s) {
  switch (s) {
    case Sex::kMale:
      return "male";
    case Sex::kFemale:
      return "female";
    case Sex::kOther:
      return "other";
    case Sex::kUnknown:
      break;
  }
  return "unknown";
}

// An event as the measures see it: a fact with the patient's demographics filled in.
struct Event {
  FactType type = FactType::kPatient;
  int32_t day = ingest::kUnknownDay;
  int32_t age_months = ingest::kUnknownAge;
  Sex sex = Sex::kUnknown;
  uint32_t encounter_class = 0;
  uint32_t care_unit = 0;
  const uint32_t* codes = nullptr;
  uint16_t n_codes = 0;
};

// What one measure accepts, as lookup tables over the table's dictionaries (built once).
class Filter {
 public:
  Filter(const FactTable& t, const Measure& m) {
    const Population& p = m.population;
    codes_ = Table(t.code_count(), !p.codes.empty(),
                   [&](uint32_t i) { return CodeMatches(p.codes, t.code(i)); });
    value_codes_ = Table(t.code_count(), !p.value_codes.empty(),
                         [&](uint32_t i) { return CodeMatches(p.value_codes, t.code(i)); });
    auto listed = [&](const std::vector<std::string>& list) {
      return Table(t.label_count(), !list.empty(), [&](uint32_t i) {
        return std::find(list.begin(), list.end(), t.label(i)) != list.end();
      });
    };
    classes_ = listed(p.encounter_class);
    units_ = listed(p.care_unit);
    death_classes_ = listed(p.death_in_class);
  }

  bool Accepts(const FactRow& r, const uint32_t* codes) const {
    return Any(codes_, codes, r.n_codes) && Any(value_codes_, codes + r.n_codes, r.n_value_codes) &&
           In(classes_, r.encounter_class) && In(units_, r.care_unit);
  }
  bool DeathClass(uint32_t label) const { return In(death_classes_, label); }

 private:
  // Empty: no condition.
  template <typename Pred>
  static std::vector<uint8_t> Table(size_t n, bool used, Pred pred) {
    std::vector<uint8_t> t;
    if (!used) return t;
    t.resize(n);
    for (uint32_t i = 0; i < n; ++i) t[i] = pred(i) ? 1 : 0;
    return t;
  }
  static bool In(const std::vector<uint8_t>& t, uint32_t id) { return t.empty() || t[id] != 0; }
  static bool Any(const std::vector<uint8_t>& t, const uint32_t* ids, uint16_t n) {
    if (t.empty()) return true;
    for (uint16_t i = 0; i < n; ++i) {
      if (t[ids[i]] != 0) return true;
    }
    return false;
  }

  std::vector<uint8_t> codes_, value_codes_, classes_, units_, death_classes_;
};

// A contributor's fixed key: the first 4 bytes of a keyed hash of what identifies it.
uint32_t ContributorKey(const storage::SecretKey& secret, const std::string& what) {
  const std::string h = storage::KeyedHash(secret, "cell-key:" + what, 16);
  uint32_t k = 0;
  for (int i = 0; i < 4; ++i) k = (k << 8) | static_cast<uint8_t>(h[static_cast<size_t>(i)]);
  return k;
}

class Aggregator {
 public:
  Aggregator(const FactTable& table, const std::vector<MeasurePack>& packs, const Period& period,
             const storage::SecretKey* secret)
      : table_(table), period_(period), secret_(secret) {
    for (const auto& pack : packs) {
      for (const auto& m : pack.measures) {
        MeasureCounts c;
        c.pack = &pack;
        c.measure = &m;
        for (const auto& s : m.stratifiers) c.stratifiers.push_back({&s, {}, {}});
        results_.push_back(std::move(c));
        filters_.emplace_back(table, m);
      }
    }
  }

  // Returns the number of facts looked at.
  uint64_t AddPatient(const PatientFacts& p) {
    demographics_ = p.Demographics();
    uint64_t looked_at = 0;
    const uint32_t patient_key =
        secret_ != nullptr ? ContributorKey(*secret_, std::to_string(p.no)) : 0;
    for (size_t i = 0; i < results_.size(); ++i) {
      MeasureCounts& r = results_[i];
      const Measure& m = *r.measure;
      const int32_t first = period_.first_day + m.population.start_offset_days;
      const int32_t last = period_.last_day + m.population.end_offset_days;
      if (m.counting == Counting::kEvents) {
        looked_at += ForEachEvent(p, m, filters_[i], first, last, [&](const Event& e) {
          ++r.population;
          const uint32_t key =
              secret_ != nullptr ? ContributorKey(*secret_, EventIdentity(p.no, e)) : 0;
          r.population_key += key;
          for (auto& s : r.stratifiers) {
            auto cell = Cell(*s.stratifier, m, e);
            ++s.cells[cell];
            if (secret_ != nullptr) s.keys[cell] += key;
          }
        });
        continue;
      }
      // Distinct patients: the patient counts once in the population and once per cell.
      bool counted = false;
      seen_.assign(r.stratifiers.size(), {});
      looked_at += ForEachEvent(p, m, filters_[i], first, last, [&](const Event& e) {
        counted = true;
        for (size_t j = 0; j < r.stratifiers.size(); ++j) {
          seen_[j].insert(Cell(*r.stratifiers[j].stratifier, m, e));
        }
      });
      if (!counted) continue;
      ++r.population;
      r.population_key += patient_key;
      for (size_t j = 0; j < r.stratifiers.size(); ++j) {
        for (const auto& cell : seen_[j]) {
          ++r.stratifiers[j].cells[cell];
          if (secret_ != nullptr) r.stratifiers[j].keys[cell] += patient_key;
        }
      }
    }
    return looked_at;
  }

  std::vector<MeasureCounts> Take() { return std::move(results_); }

 private:
  Event EventOf(const PatientFacts& p, FactType type, const FactRow& r) const {
    Event e;
    e.type = type;
    e.day = r.day;
    e.age_months = r.age_months;
    e.sex = r.sex;
    e.encounter_class = r.encounter_class;
    e.care_unit = r.care_unit;
    e.codes = p.codes.data() + r.codes;
    e.n_codes = r.n_codes;
    // Events carry age and sex when the patient came with them; otherwise the demographics.
    if (type != FactType::kPatient && demographics_ != nullptr) {
      if (e.sex == Sex::kUnknown) e.sex = demographics_->sex;
      if (e.age_months == ingest::kUnknownAge) {
        e.age_months = ingest::AgeMonths(demographics_->day, r.day);
      }
    }
    return e;
  }

  // Calls fn(event) for every event of `m` in [first, last]; returns the facts looked at.
  template <typename Fn>
  uint64_t ForEachEvent(const PatientFacts& p, const Measure& m, const Filter& filter,
                        int32_t first, int32_t last, Fn&& fn) const {
    const Population& pop = m.population;
    if (pop.deaths) return ForDeath(p, pop, filter, first, last, fn);
    const auto& rows = p.rows[static_cast<size_t>(pop.resource)];
    auto it = std::lower_bound(rows.begin(), rows.end(), first,
                               [](const FactRow& r, int32_t day) { return r.day < day; });
    uint64_t looked_at = 0;
    for (; it != rows.end() && it->day <= last; ++it) {
      ++looked_at;
      if (it->day == ingest::kUnknownDay) continue;
      if (!filter.Accepts(*it, p.codes.data() + it->codes)) continue;
      fn(EventOf(p, pop.resource, *it));
    }
    return looked_at;
  }

  // A death is an event on the day of death; with death_in_class, only during a stay of one of
  // those classes (the latest such stay gives the class and unit).
  template <typename Fn>
  uint64_t ForDeath(const PatientFacts& p, const Population& pop, const Filter& filter,
                    int32_t first, int32_t last, Fn&& fn) const {
    if (demographics_ == nullptr) return 0;
    const int32_t death = demographics_->end_day;
    if (death == ingest::kUnknownDay || death < first || death > last) return 1;
    Event e;
    e.type = FactType::kPatient;
    e.day = death;
    e.sex = demographics_->sex;
    e.age_months = ingest::AgeMonths(demographics_->day, death);
    uint64_t looked_at = 1;
    if (!pop.death_in_class.empty()) {
      const FactRow* stay = nullptr;
      for (const auto& r : p.rows[static_cast<size_t>(FactType::kEncounter)]) {
        if (r.day == ingest::kUnknownDay) continue;
        if (r.day > death) break;  // sorted by day
        ++looked_at;
        const bool during = r.end_day == ingest::kUnknownDay ? r.day == death : death <= r.end_day;
        if (during && filter.DeathClass(r.encounter_class)) stay = &r;
      }
      if (stay == nullptr) return looked_at;
      e.encounter_class = stay->encounter_class;
      e.care_unit = stay->care_unit;
    }
    fn(e);
    return looked_at;
  }

  std::string EventIdentity(uint64_t patient, const Event& e) const;
  std::string ComponentValue(Component c, const Measure& m, const Event& e) const;
  std::vector<std::string> Cell(const Stratifier& s, const Measure& m, const Event& e) const {
    std::vector<std::string> values;
    values.reserve(s.components.size());
    for (Component c : s.components) values.push_back(ComponentValue(c, m, e));
    return values;
  }

  const FactTable& table_;
  const Period& period_;
  const storage::SecretKey* secret_;
  std::vector<MeasureCounts> results_;
  std::vector<Filter> filters_;
  const FactRow* demographics_ = nullptr;
  std::vector<std::set<std::vector<std::string>>> seen_;
};

std::string Aggregator::EventIdentity(uint64_t patient, const Event& e) const {
  std::string id = std::to_string(patient) + "|" + std::to_string(static_cast<int>(e.type)) + "|" +
                   std::to_string(e.day);
  if (e.n_codes > 0) id += "|" + table_.code(e.codes[0]).code;
  return id;
}

std::string Aggregator::ComponentValue(Component c, const Measure& m, const Event& e) const {
  switch (c) {
    case Component::kAgeBand:
      return AgeBandLabel(m.age_bands, e.age_months);
    case Component::kSex:
      return SexLabel(e.sex);
    case Component::kMonth:
      return MonthLabel(e.day);
    case Component::kIsoWeek:
      return IsoWeekLabel(e.day);
    case Component::kEncounterClass: {
      const std::string& cls = table_.label(e.encounter_class);
      return cls.empty() ? "unknown" : cls;
    }
    case Component::kCareUnit: {
      const std::string& unit = table_.label(e.care_unit);
      return unit.empty() ? "unknown" : unit;
    }
    case Component::kIcd10Chapter:
      for (uint16_t i = 0; i < e.n_codes; ++i) {
        const FactCode& code = table_.code(e.codes[i]);
        if (code.system != CodeSystem::kIcd10) continue;
        std::string chapter = Icd10Chapter(code.code);
        if (!chapter.empty()) return chapter;
      }
      return "unknown";
  }
  return "unknown";
}

}  // namespace

Result<std::vector<MeasureCounts>> ComputeMeasures(const FactTable& table,
                                                   const std::vector<MeasurePack>& packs,
                                                   const Period& period,
                                                   const std::set<uint64_t>& excluded,
                                                   EngineStats* stats,
                                                   const storage::SecretKey* cell_key_secret) {
  EDS_RETURN_IF_ERROR(table.error());
  Aggregator aggregator(table, packs, period, cell_key_secret);
  EngineStats local;
  for (const auto& p : table.patients()) {
    if (p.no == 0) continue;  // records of no patient
    bool any = false;
    for (const auto& rows : p.rows) any = any || !rows.empty();
    if (!any) continue;  // erased or merged away
    ++local.patients_scanned;
    if (excluded.count(p.no) != 0) {
      ++local.patients_excluded;
      continue;
    }
    local.facts_scanned += aggregator.AddPatient(p);
  }
  if (stats != nullptr) *stats = local;
  return aggregator.Take();
}

Result<std::vector<MeasureCounts>> ComputeMeasures(storage::Store& store,
                                                   const std::vector<MeasurePack>& packs,
                                                   const Period& period,
                                                   const std::set<uint64_t>& excluded,
                                                   EngineStats* stats,
                                                   const storage::SecretKey* cell_key_secret) {
  FactIndex index;
  EDS_RETURN_IF_ERROR(store.WatchFacts(&index, {"system", "aggregate.compute", period.label, ""}));
  store.UnwatchFacts(&index);
  return index.Read([&](const FactTable& table) {
    return ComputeMeasures(table, packs, period, excluded, stats, cell_key_secret);
  });
}

}  // namespace eds::aggregate
