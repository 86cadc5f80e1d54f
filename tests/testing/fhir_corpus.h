// FHIR test corpus: loads resources (compact JSON, one string each) from the committed fixtures
// and, when present, from the shared third-party test data. Bundles are split into their entries.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace eds::testing {

// Resources from tests/data/fhir (always present).
std::vector<std::string> CommittedFhirResources();
// Resources from the shared FHIR R4 examples and Synthea samples; empty when the shared data is
// absent (the caller reports that).
std::vector<std::string> SharedFhirResources();
// Resources of one JSON file (a resource, or a Bundle split into its entries plus the Bundle).
std::vector<std::string> FhirResourcesOfFile(const std::filesystem::path& file);

}  // namespace eds::testing
