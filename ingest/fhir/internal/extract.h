// Copies the fields pseudonymisation and fact extraction need out of a validated resource into
// ParsedResource (see reader.h for which field comes from where). Values of the wrong JSON kind
// are skipped, never reported: validation has already done that. Stateless; thread-safe.
#pragma once

#include <simdjson.h>

#include "ingest/fhir/reader.h"

namespace eds::ingest::fhir::internal {

// The kind of a resource type name (kOther for the types that are not understood).
ResourceKind KindOf(std::string_view resource_type);

// Fills every extracted field of `out` from `resource`; `out->kind` must be set.
void ExtractFields(simdjson::dom::object resource, ParsedResource* out);

}  // namespace eds::ingest::fhir::internal
