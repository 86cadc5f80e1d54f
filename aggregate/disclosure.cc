#include "aggregate/disclosure.h"

#include <algorithm>

#include "aggregate/containment.h"

namespace eds::aggregate {
namespace {

std::vector<std::string> Without(const std::vector<std::string>& v, size_t j) {
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != j) out.push_back(v[i]);
  }
  return out;
}

// Whether every patient falls in exactly one value of the components (sex does not change
// within a period; age band, month, week, class, unit and chapter can).
bool OneCellPerPatient(const std::vector<Component>& components) {
  for (Component c : components) {
    if (c != Component::kSex) return false;
  }
  return true;
}

std::vector<Relation> RelationsOfMeasure(const MeasureCounts& m) {
  const std::string key = MeasureKey(*m.measure);
  const bool events = m.measure->counting == Counting::kEvents;
  std::vector<Relation> out;
  for (const auto& s : m.stratifiers) {
    const Stratifier& st = *s.stratifier;
    Relation all{{},
                 CellId{key, "", {}},
                 events || OneCellPerPatient(st.components),
                 "the total and the strata of " + st.id};
    for (const auto& [values, count] : s.cells) all.parts.push_back({key, st.id, values});
    out.push_back(std::move(all));
    if (st.components.size() < 2) continue;
    // Margins: fixing all components but one gives a relation whose sum is the cell of the
    // stratifier made of the other components, when the measure has one.
    for (size_t j = 0; j < st.components.size(); ++j) {
      std::vector<Component> rest;
      for (size_t i = 0; i < st.components.size(); ++i) {
        if (i != j) rest.push_back(st.components[i]);
      }
      const Stratifier* margin = nullptr;
      for (const auto& other : m.stratifiers) {
        if (other.stratifier->components == rest) margin = other.stratifier;
      }
      std::map<std::vector<std::string>, Relation> by_rest;
      for (const auto& [values, count] : s.cells) {
        const auto r = Without(values, j);
        Relation& g = by_rest[r];
        g.parts.push_back({key, st.id, values});
        if (margin != nullptr) g.sum = CellId{key, margin->id, r};
        g.exact = events || OneCellPerPatient({st.components[j]});
        g.what = "the " + std::string(ComponentName(st.components[j])) + " margin of " + st.id;
      }
      for (auto& [r, g] : by_rest) out.push_back(std::move(g));
    }
  }
  return out;
}

struct Window {
  int32_t first, last;
};

}  // namespace

std::string MeasureKey(const Measure& m) { return m.url + "|" + m.version; }

std::vector<Relation> RelationsOf(const std::vector<MeasureCounts>& counts) {
  std::vector<Relation> out;
  for (const auto& m : counts) {
    for (auto& r : RelationsOfMeasure(m)) out.push_back(std::move(r));
  }
  for (auto& r : ContainmentRelations(counts)) out.push_back(std::move(r));
  return out;
}

std::map<CellId, uint64_t> AllCells(const std::vector<MeasureCounts>& counts) {
  std::map<CellId, uint64_t> out;
  for (const auto& m : counts) {
    const std::string key = MeasureKey(*m.measure);
    out[{key, "", {}}] = m.population;
    for (const auto& s : m.stratifiers) {
      for (const auto& [values, count] : s.cells) out[{key, s.stratifier->id, values}] = count;
    }
  }
  return out;
}

Result<DisclosureResult> ApplyDisclosureControl(const std::vector<MeasureCounts>& counts,
                                                const Period& period,
                                                const std::vector<PastRelease>& past,
                                                const DisclosureOptions& options) {
  if (options.k < kMinimumK) {
    return InvalidArgumentError("disclosure k must be at least " + std::to_string(kMinimumK));
  }
  const uint64_t k = options.k;
  const std::map<CellId, uint64_t> cells = AllCells(counts);
  DisclosureResult out;
  auto mask = [&](const CellId& c, const std::string& rule, const std::string& reason) {
    if (out.masked.insert(c).second) out.decisions.push_back({c, rule, reason});
  };

  // 1. Primary: small counts. A zero is no disclosure and stays.
  for (const auto& [c, n] : cells) {
    if (n > 0 && n < k) mask(c, "primary", "count below " + std::to_string(k));
  }

  // Secondary suppression treats every relation as exact: the cautious reading.
  const std::vector<Relation> groups = RelationsOf(counts);
  std::map<std::string, Window> windows;  // by measure key
  for (const auto& m : counts) {
    windows[MeasureKey(*m.measure)] = {period.first_day + m.measure->population.start_offset_days,
                                       period.last_day + m.measure->population.end_offset_days};
  }

  // 2 and 3 until nothing changes: a differencing mask can call for secondary ones.
  for (bool changed = true; changed;) {
    changed = false;
    const size_t before = out.masked.size();
    for (const auto& g : groups) {
      // An inequality between measures pins nothing alone; the exact solve below weighs it.
      if (g.contained) continue;
      std::vector<CellId> members = g.parts;
      const bool sum_released = g.sum && cells.count(*g.sum) != 0;
      if (sum_released) members.push_back(*g.sum);
      std::vector<const CellId*> masked, open;
      uint64_t masked_sum = 0;
      for (const auto& c : members) {
        if (out.masked.count(c) != 0) {
          masked.push_back(&c);
          if (!(sum_released && c == *g.sum)) masked_sum += cells.at(c);
        } else {
          open.push_back(&c);
        }
      }
      if (masked.empty()) continue;
      // One masked member is recomputable from the others; masked members whose sum is known
      // and small are pinned under k together.
      const bool sum_masked = sum_released && out.masked.count(*g.sum) != 0;
      const bool one_alone = masked.size() == 1;
      const bool small_known_sum = sum_released && !sum_masked && masked_sum < k;
      if (!one_alone && !small_known_sum) continue;
      if (open.empty()) continue;
      // The fewest and smallest extra cells: mask the smallest open part, the sum last.
      const CellId* pick = nullptr;
      for (const CellId* c : open) {
        const bool is_sum = sum_released && *c == *g.sum;
        if (pick == nullptr) {
          pick = c;
          continue;
        }
        const bool pick_is_sum = sum_released && *pick == *g.sum;
        if ((pick_is_sum && !is_sum) || (pick_is_sum == is_sum && cells.at(*c) < cells.at(*pick))) {
          pick = c;
        }
      }
      mask(*pick, "secondary", "keeps a masked cell from being recomputed from " + g.what);
    }
    // Differencing: a cell released before for a nested window differs by less than k.
    for (const auto& p : past) {
      for (const auto& [c, n] : cells) {
        if (out.masked.count(c) != 0) continue;
        const auto it = p.counts.find(c);
        if (it == p.counts.end()) continue;
        const auto w = windows.find(c.measure);
        if (w == windows.end()) continue;
        const int32_t start_offset = w->second.first - period.first_day;
        const int32_t end_offset = w->second.last - period.last_day;
        const Window old{p.first_day + start_offset, p.last_day + end_offset};
        const Window now = w->second;
        const bool nested = (old.first <= now.first && now.last <= old.last) ||
                            (now.first <= old.first && old.last <= now.last);
        const bool same = old.first == now.first && old.last == now.last;
        const uint64_t diff = n > it->second ? n - it->second : it->second - n;
        if (nested && !same && diff > 0 && diff < k) {
          mask(c, "differencing",
               "differs by less than " + std::to_string(k) + " from the count released for " +
                   p.period);
        }
      }
    }
    changed = out.masked.size() != before;
    if (changed) continue;
    // The attacker's own check: no masked cell may be pinned to one value by an exact solve of
    // everything the release shows. A pinned cell gets one more masked neighbour.
    auto ranges = AttackerRanges(cells, out.masked, groups);
    if (!ranges.ok()) return ranges.status();
    out.exposed.clear();
    for (const auto& [c, range] : *ranges) {
      if (!range.high || range.low != *range.high) continue;
      const CellId* pick = nullptr;
      std::string what;
      for (const auto& g : groups) {
        const bool in =
            (g.sum && *g.sum == c) || std::find(g.parts.begin(), g.parts.end(), c) != g.parts.end();
        if (!in) continue;
        for (const auto& part : g.parts) {
          if (out.masked.count(part) == 0 &&
              (pick == nullptr || cells.at(part) < cells.at(*pick))) {
            pick = &part;
            what = g.what;
          }
        }
        if (pick == nullptr && g.sum && cells.count(*g.sum) != 0 && out.masked.count(*g.sum) == 0) {
          pick = &*g.sum;
          what = g.what;
        }
      }
      if (pick == nullptr) {
        out.exposed.push_back(c);
        continue;
      }
      mask(*pick, "secondary", "an exact solve of " + what + " would pin a masked cell");
      changed = true;
      break;  // one at a time: the next solve may need no more
    }
  }
  return out;
}

}  // namespace eds::aggregate
