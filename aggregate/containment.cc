#include "aggregate/containment.h"

#include <algorithm>

namespace eds::aggregate {
namespace {

bool SameSystem(const CodeFilter& a, const CodeFilter& b) {
  return a.system == b.system &&
         (a.system != ingest::CodeSystem::kOther || a.system_uri == b.system_uri);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Every code `inner` accepts, `outer` accepts too.
bool FilterCovers(const CodeFilter& outer, const CodeFilter& inner) {
  if (!SameSystem(outer, inner)) return false;
  if (outer.codes.empty() && outer.prefixes.empty()) return true;  // any code of the system
  if (inner.codes.empty() && inner.prefixes.empty()) return false;
  for (const auto& code : inner.codes) {
    const bool exact = std::find(outer.codes.begin(), outer.codes.end(), code) != outer.codes.end();
    const bool prefixed = std::any_of(outer.prefixes.begin(), outer.prefixes.end(),
                                      [&](const std::string& p) { return StartsWith(code, p); });
    if (!exact && !prefixed) return false;
  }
  for (const auto& prefix : inner.prefixes) {
    if (!std::any_of(outer.prefixes.begin(), outer.prefixes.end(),
                     [&](const std::string& p) { return StartsWith(prefix, p); })) {
      return false;
    }
  }
  return true;
}

// Every code an inner list of filters accepts, the outer list accepts (empty = everything).
bool CodesCover(const std::vector<CodeFilter>& outer, const std::vector<CodeFilter>& inner) {
  if (outer.empty()) return true;
  if (inner.empty()) return false;
  return std::all_of(inner.begin(), inner.end(), [&](const CodeFilter& i) {
    return std::any_of(outer.begin(), outer.end(),
                       [&](const CodeFilter& o) { return FilterCovers(o, i); });
  });
}

// A value list (classes, units): empty accepts everything.
bool ValuesCover(const std::vector<std::string>& outer, const std::vector<std::string>& inner) {
  if (outer.empty()) return true;
  if (inner.empty()) return false;
  return std::all_of(inner.begin(), inner.end(), [&](const std::string& v) {
    return std::find(outer.begin(), outer.end(), v) != outer.end();
  });
}

bool SameStrata(const Measure& a, const Stratifier& sa, const Measure& b, const Stratifier& sb) {
  if (sa.components != sb.components) return false;
  const bool ages = std::find(sa.components.begin(), sa.components.end(), Component::kAgeBand) !=
                    sa.components.end();
  return !ages || a.age_bands == b.age_bands;
}

}  // namespace

bool PopulationContains(const Measure& outer, const Measure& inner) {
  const Population& o = outer.population;
  const Population& i = inner.population;
  if (&outer == &inner || outer.counting != inner.counting) return false;
  if (o.resource != i.resource || o.deaths != i.deaths) return false;
  if (o.start_offset_days > i.start_offset_days || o.end_offset_days < i.end_offset_days) {
    return false;
  }
  return CodesCover(o.codes, i.codes) && CodesCover(o.value_codes, i.value_codes) &&
         ValuesCover(o.encounter_class, i.encounter_class) &&
         ValuesCover(o.care_unit, i.care_unit) && ValuesCover(o.death_in_class, i.death_in_class);
}

std::vector<Relation> ContainmentRelations(const std::vector<MeasureCounts>& counts) {
  std::vector<Relation> out;
  for (const auto& outer : counts) {
    for (const auto& inner : counts) {
      if (!PopulationContains(*outer.measure, *inner.measure)) continue;
      const std::string o = MeasureKey(*outer.measure);
      const std::string i = MeasureKey(*inner.measure);
      const std::string what = "the population of " + i + " inside that of " + o;
      Relation total{{{i, "", {}}}, CellId{o, "", {}}, false, what};
      total.contained = true;
      out.push_back(std::move(total));
      for (const auto& si : inner.stratifiers) {
        for (const auto& so : outer.stratifiers) {
          if (!SameStrata(*outer.measure, *so.stratifier, *inner.measure, *si.stratifier)) continue;
          for (const auto& [values, count] : si.cells) {
            if (so.cells.count(values) == 0) continue;
            Relation r{{{i, si.stratifier->id, values}},
                       CellId{o, so.stratifier->id, values},
                       false,
                       what};
            r.contained = true;
            out.push_back(std::move(r));
          }
        }
      }
    }
  }
  return out;
}

}  // namespace eds::aggregate
