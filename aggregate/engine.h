// Engine: computes every measure of the given packs for one period from the facts, patient by
// patient (a patient's demographics and events together), leaving out excluded (objecting)
// patients. Counts are exact here; disclosure control comes after.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aggregate/fact_index.h"
#include "aggregate/measure_pack.h"
#include "aggregate/period.h"
#include "storage/store.h"

namespace eds::aggregate {

// One stratifier's cells: stratum values (one per component) -> count.
struct StratifierCounts {
  const Stratifier* stratifier = nullptr;
  std::map<std::vector<std::string>, uint64_t> cells;
  // Cell keys (sum of the contributors' keys), only when a cell-key secret is given.
  std::map<std::vector<std::string>, uint32_t> keys;
};

struct MeasureCounts {
  const MeasurePack* pack = nullptr;
  const Measure* measure = nullptr;
  uint64_t population = 0;
  uint32_t population_key = 0;
  std::vector<StratifierCounts> stratifiers;
};

struct EngineStats {
  uint64_t patients_scanned = 0;
  uint64_t patients_excluded = 0;
  uint64_t facts_scanned = 0;
};

// `packs` must outlive the result (it points into them). `excluded` holds patient numbers
// (Store::PatientNumber) left out of every count. With `cell_key_secret`, each patient and
// event gets a fixed key derived from it and every cell the sum of its contributors' keys
// (for cell-key perturbation). Errors: the table's (kDataLoss).
Result<std::vector<MeasureCounts>> ComputeMeasures(
    const FactTable& table, const std::vector<MeasurePack>& packs, const Period& period,
    const std::set<uint64_t>& excluded, EngineStats* stats = nullptr,
    const storage::SecretKey* cell_key_secret = nullptr);
// The same from the store's facts as they are now, loaded into a FactIndex of its own (one
// audit entry); what keeps no index between releases (tools, tests) uses this.
Result<std::vector<MeasureCounts>> ComputeMeasures(
    storage::Store& store, const std::vector<MeasurePack>& packs, const Period& period,
    const std::set<uint64_t>& excluded, EngineStats* stats = nullptr,
    const storage::SecretKey* cell_key_secret = nullptr);

}  // namespace eds::aggregate
