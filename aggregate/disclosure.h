// Disclosure control of one release, in order: primary suppression (counts 1..k-1), secondary
// suppression (no masked cell recomputable from the other cells of the same measure: its total,
// its stratifiers, the margins of multi-component stratifiers), then differencing against what
// was released before for overlapping windows. Every decision is recorded (cell, rule, reason).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aggregate/engine.h"

namespace eds::aggregate {

inline constexpr uint64_t kMinimumK = 5;
inline constexpr uint64_t kDefaultK = 11;

// A cell of a release: the measure's total (stratifier "") or one stratum.
struct CellId {
  std::string measure;     // canonical url|version
  std::string stratifier;  // "" for the population total
  std::vector<std::string> values;
  auto operator<=>(const CellId&) const = default;
};

struct Decision {
  CellId cell;
  std::string rule;  // "primary", "secondary", "differencing"
  std::string reason;
};

struct DisclosureOptions {
  uint64_t k = kDefaultK;  // never below kMinimumK
};

// Counts released earlier, by cell, with the period they covered.
struct PastRelease {
  std::string period;
  int32_t first_day = 0;
  int32_t last_day = 0;
  std::map<CellId, uint64_t> counts;  // released (unmasked) cells only
};

struct DisclosureResult {
  std::set<CellId> masked;
  std::vector<Decision> decisions;
  // Masked cells an exact solve still pins and no further mask can protect: a release with any
  // cannot be approved.
  std::vector<CellId> exposed;
};

std::string MeasureKey(const Measure& m);  // "url|version"

// Errors: kInvalidArgument when k is below kMinimumK.
Result<DisclosureResult> ApplyDisclosureControl(const std::vector<MeasureCounts>& counts,
                                                const Period& period,
                                                const std::vector<PastRelease>& past,
                                                const DisclosureOptions& options);

// Every cell of a release with its count (masked ones included), for checks and history.
std::map<CellId, uint64_t> AllCells(const std::vector<MeasureCounts>& counts);

// What anyone reading a release knows of how its cells relate: `sum` is the total of `parts`
// (exact), or, for distinct patients over a component that can change for one patient (age
// band, week, ...), at most their total and at least each of them (not exact).
// With `contained`, the relation says only that each part is at most `sum` (one measure's
// population inside another's, containment.h).
struct Relation {
  std::vector<CellId> parts;
  std::optional<CellId> sum;  // absent: a margin the release does not contain
  bool exact = true;
  std::string what;
  bool contained = false;
};
std::vector<Relation> RelationsOf(const std::vector<MeasureCounts>& counts);

// The integer range an attacker can derive for each masked cell from the released ones and the
// relations (present cells are at least 1). Solved exactly as an integer program.
struct CellRange {
  uint64_t low = 0;
  std::optional<uint64_t> high;  // nullopt: unbounded
};
// With `tolerance`, a shown count may differ from the true one by that much (rounding, cell-key
// noise), and the attacker knows it.
Result<std::map<CellId, CellRange>> AttackerRanges(const std::map<CellId, uint64_t>& cells,
                                                   const std::set<CellId>& masked,
                                                   const std::vector<Relation>& relations,
                                                   uint64_t tolerance = 0);

}  // namespace eds::aggregate
