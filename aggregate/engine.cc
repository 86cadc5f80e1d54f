#include "aggregate/engine.h"

#include <algorithm>

#include "common/status_macros.h"
#include "storage/key_ring.h"

namespace eds::aggregate {
namespace {

using ingest::Fact;
using ingest::FactCode;
using ingest::FactType;

bool Matches(const std::vector<CodeFilter>& filters, const std::vector<FactCode>& codes) {
  if (filters.empty()) return true;
  for (const auto& f : filters) {
    for (const auto& c : codes) {
      if (c.system != f.system) continue;
      if (f.system == ingest::CodeSystem::kOther && c.system_uri != f.system_uri) continue;
      if (f.codes.empty() && f.prefixes.empty()) return true;
      if (std::find(f.codes.begin(), f.codes.end(), c.code) != f.codes.end()) return true;
      for (const auto& p : f.prefixes) {
        if (c.code.compare(0, p.size(), p) == 0) return true;
      }
    }
  }
  return false;
}

bool In(const std::vector<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

std::string SexLabel(ingest::Sex s) {
  switch (s) {
    case ingest::Sex::kMale:
      return "male";
    case ingest::Sex::kFemale:
      return "female";
    case ingest::Sex::kOther:
      return "other";
    case ingest::Sex::kUnknown:
      break;
  }
  return "unknown";
}

std::string ComponentValue(Component c, const Measure& m, const Fact& f) {
  switch (c) {
    case Component::kAgeBand:
      return AgeBandLabel(m.age_bands, f.age_months);
    case Component::kSex:
      return SexLabel(f.sex);
    case Component::kMonth:
      return MonthLabel(f.day);
    case Component::kIsoWeek:
      return IsoWeekLabel(f.day);
    case Component::kEncounterClass:
      return f.encounter_class.empty() ? "unknown" : f.encounter_class;
    case Component::kCareUnit:
      return f.care_unit.empty() ? "unknown" : f.care_unit;
    case Component::kIcd10Chapter:
      for (const auto& code : f.codes) {
        if (code.system != ingest::CodeSystem::kIcd10) continue;
        std::string chapter = Icd10Chapter(code.code);
        if (!chapter.empty()) return chapter;
      }
      return "unknown";
  }
  return "unknown";
}

// One patient's facts, demographics applied; its events that fall in a measure, as facts (a
// death becomes a fact on the day of death).
class PatientEvents {
 public:
  explicit PatientEvents(std::vector<Fact> facts) : facts_(std::move(facts)) {
    for (const auto& f : facts_) {
      if (f.type != FactType::kPatient) continue;
      demographics_.sex = f.sex;
      demographics_.birth_day = f.day;
      demographics_.death_day = f.end_day;
      demographics_.deceased = f.deceased;
      has_demographics_ = true;
    }
    if (has_demographics_) ingest::CompleteFromDemographics(demographics_, &facts_);
  }

  // Calls fn(event) for every event of `m` in [first, last].
  template <typename Fn>
  void ForEachEvent(const Measure& m, int32_t first, int32_t last, Fn&& fn) const {
    const Population& p = m.population;
    if (p.deaths) {
      const int32_t death = demographics_.death_day;
      if (!has_demographics_ || death == ingest::kUnknownDay || death < first || death > last) {
        return;
      }
      Fact event;
      event.type = FactType::kPatient;
      event.day = death;
      event.sex = demographics_.sex;
      event.age_months = ingest::AgeMonths(demographics_.birth_day, death);
      if (!p.death_in_class.empty()) {
        const Fact* stay = nullptr;
        for (const auto& f : facts_) {
          if (f.type == FactType::kEncounter && In(p.death_in_class, f.encounter_class) &&
              f.day != ingest::kUnknownDay && f.day <= death &&
              (f.end_day == ingest::kUnknownDay ? f.day == death : death <= f.end_day)) {
            stay = &f;
          }
        }
        if (stay == nullptr) return;
        event.encounter_class = stay->encounter_class;
        event.care_unit = stay->care_unit;
      }
      fn(event);
      return;
    }
    for (const auto& f : facts_) {
      if (f.type != p.resource || f.day == ingest::kUnknownDay || f.day < first || f.day > last) {
        continue;
      }
      if (!Matches(p.codes, f.codes) || !Matches(p.value_codes, f.value_codes)) continue;
      if (!In(p.encounter_class, f.encounter_class) || !In(p.care_unit, f.care_unit)) continue;
      fn(f);
    }
  }

 private:
  std::vector<Fact> facts_;
  ingest::Demographics demographics_;
  bool has_demographics_ = false;
};

// A contributor's fixed key: the first 4 bytes of a keyed hash of what identifies it.
uint32_t ContributorKey(const storage::SecretKey& secret, const std::string& what) {
  const std::string h = storage::KeyedHash(secret, "cell-key:" + what, 16);
  uint32_t k = 0;
  for (int i = 0; i < 4; ++i) k = (k << 8) | static_cast<uint8_t>(h[static_cast<size_t>(i)]);
  return k;
}

std::string EventIdentity(uint64_t patient, const Fact& e) {
  std::string id = std::to_string(patient) + "|" + std::to_string(static_cast<int>(e.type)) + "|" +
                   std::to_string(e.day);
  if (!e.codes.empty()) id += "|" + e.codes[0].code;
  return id;
}

class Aggregator {
 public:
  Aggregator(const std::vector<MeasurePack>& packs, const Period& period,
             const storage::SecretKey* secret)
      : period_(period), secret_(secret) {
    for (const auto& pack : packs) {
      for (const auto& m : pack.measures) {
        MeasureCounts c;
        c.pack = &pack;
        c.measure = &m;
        for (const auto& s : m.stratifiers) c.stratifiers.push_back({&s, {}, {}});
        results_.push_back(std::move(c));
      }
    }
  }

  void AddPatient(uint64_t patient, std::vector<Fact> facts) {
    const PatientEvents events(std::move(facts));
    const uint32_t patient_key =
        secret_ != nullptr ? ContributorKey(*secret_, std::to_string(patient)) : 0;
    for (auto& r : results_) {
      const Measure& m = *r.measure;
      const int32_t first = period_.first_day + m.population.start_offset_days;
      const int32_t last = period_.last_day + m.population.end_offset_days;
      if (m.counting == Counting::kEvents) {
        events.ForEachEvent(m, first, last, [&](const Fact& e) {
          ++r.population;
          const uint32_t key =
              secret_ != nullptr ? ContributorKey(*secret_, EventIdentity(patient, e)) : 0;
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
      events.ForEachEvent(m, first, last, [&](const Fact& e) {
        counted = true;
        for (size_t i = 0; i < r.stratifiers.size(); ++i) {
          seen_[i].insert(Cell(*r.stratifiers[i].stratifier, m, e));
        }
      });
      if (!counted) continue;
      ++r.population;
      r.population_key += patient_key;
      for (size_t i = 0; i < r.stratifiers.size(); ++i) {
        for (const auto& cell : seen_[i]) {
          ++r.stratifiers[i].cells[cell];
          if (secret_ != nullptr) r.stratifiers[i].keys[cell] += patient_key;
        }
      }
    }
  }

  std::vector<MeasureCounts> Take() { return std::move(results_); }

 private:
  static std::vector<std::string> Cell(const Stratifier& s, const Measure& m, const Fact& e) {
    std::vector<std::string> values;
    values.reserve(s.components.size());
    for (Component c : s.components) values.push_back(ComponentValue(c, m, e));
    return values;
  }

  const Period& period_;
  const storage::SecretKey* secret_;
  std::vector<MeasureCounts> results_;
  std::vector<std::set<std::vector<std::string>>> seen_;
};

}  // namespace

Result<std::vector<MeasureCounts>> ComputeMeasures(storage::Store& store,
                                                   const std::vector<MeasurePack>& packs,
                                                   const Period& period,
                                                   const std::set<uint64_t>& excluded,
                                                   EngineStats* stats,
                                                   const storage::SecretKey* cell_key_secret) {
  Aggregator aggregator(packs, period, cell_key_secret);
  EngineStats local;
  uint64_t current = UINT64_MAX;
  std::vector<Fact> facts;
  Status decode_error;
  auto flush = [&] {
    if (current == UINT64_MAX || current == 0) return;  // patient 0: records of no patient
    ++local.patients_scanned;
    if (excluded.count(current) != 0) {
      ++local.patients_excluded;
      return;
    }
    aggregator.AddPatient(current, std::move(facts));
  };
  // Only the patients with facts in the months the windows cover are read.
  int32_t first = period.first_day;
  int32_t last = period.last_day;
  for (const auto& pack : packs) {
    for (const auto& m : pack.measures) {
      first = std::min(first, period.first_day + m.population.start_offset_days);
      last = std::max(last, period.last_day + m.population.end_offset_days);
    }
  }
  std::vector<uint32_t> months;
  for (uint32_t b = ingest::MonthBucket(first); b <= ingest::MonthBucket(last); ++b) {
    months.push_back(b);
  }
  EDS_RETURN_IF_ERROR(store.ScanFactsInBuckets(months,
                                               [&](uint64_t no, std::string_view bytes) {
                                                 if (no != current) {
                                                   flush();
                                                   facts.clear();
                                                   current = no;
                                                 }
                                                 auto decoded = ingest::DecodeFacts(bytes);
                                                 if (!decoded.ok()) {
                                                   decode_error = decoded.status();
                                                   return false;
                                                 }
                                                 local.facts_scanned += decoded->size();
                                                 for (auto& f : *decoded)
                                                   facts.push_back(std::move(f));
                                                 return true;
                                               },
                                               {"system", "aggregate.compute", period.label, ""}));
  EDS_RETURN_IF_ERROR(decode_error);
  flush();
  if (stats != nullptr) *stats = local;
  return aggregator.Take();
}

}  // namespace eds::aggregate
