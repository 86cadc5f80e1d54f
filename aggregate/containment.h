// Containment between measures: when one measure's population is, by its definition, part of
// another's (in-hospital deaths of all deaths, a code list inside a wider one, a window inside a
// longer one), every count of the first is at most the matching count of the second, and an
// attacker holding both releases knows it. Derived only where the definitions prove it.
#pragma once

#include <vector>

#include "aggregate/disclosure.h"
#include "aggregate/engine.h"
#include "aggregate/measure_pack.h"

namespace eds::aggregate {

// True when every event (or patient) `inner` counts is also counted by `outer`, for any period.
bool PopulationContains(const Measure& outer, const Measure& inner);

// For each ordered pair of measures where one contains the other: the inner total is at most the
// outer total, and so is each stratum of a stratifier both measures share (same components,
// same age bands). Relations with `contained` set.
std::vector<Relation> ContainmentRelations(const std::vector<MeasureCounts>& counts);

}  // namespace eds::aggregate
