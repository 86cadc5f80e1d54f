// Finds every Reference.reference in a resource, at any depth and in contained resources, for
// reference resolution inside Bundles and for re-linking after a patient merge. Stateless;
// thread-safe.
#pragma once

#include <simdjson.h>

#include <vector>

#include "ingest/fhir/reader.h"

namespace eds::ingest::fhir::internal {

// Appends to `out` each string-valued "reference" member of an object below `resource`, with
// its path relative to the resource. Resources of type Bundle nested inside are skipped: their
// references point into their own entries, not into the enclosing Bundle.
void CollectReferences(simdjson::dom::object resource, std::vector<FoundReference>* out);

}  // namespace eds::ingest::fhir::internal
