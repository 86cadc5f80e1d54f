// FHIR R4 output of a release: one MeasureReport per measure (status complete, type summary,
// the measure canonical with its version, the period, the reporter when the hospital is named
// (FHIR has no empty strings), the population count, each stratifier's strata with their
// component values and counts), gathered in one collection Bundle. A masked cell keeps its place
// but carries no count, only the data-absent-reason extension "masked".
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "aggregate/disclosure.h"

namespace eds::aggregate {

struct ReportContext {
  std::string release_id;
  std::string reporter;  // the hospital's name
  std::string date;      // FHIR dateTime the release was computed
};

// `shown` (may be null) replaces the count shown for the cells it holds (noise).
std::string ReleaseBundleJson(const std::vector<MeasureCounts>& counts, const Period& period,
                              const std::set<CellId>& masked, const ReportContext& context,
                              const std::map<CellId, uint64_t>* shown = nullptr);

}  // namespace eds::aggregate
