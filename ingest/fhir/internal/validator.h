// Checks a resource of an understood type against its element table (schema.h): JSON kinds,
// cardinality, required elements and choices, FHIR primitive formats and required value sets.
// Unknown elements are warnings, everything else errors. Stateless; thread-safe.
#pragma once

#include <simdjson.h>

#include "ingest/fhir/internal/issue_sink.h"
#include "ingest/fhir/internal/schema.h"

namespace eds::ingest::fhir::internal {

// Validates `resource` (its resourceType already checked to be `def.name`); `path` names it.
void ValidateResource(simdjson::dom::object resource, const TypeDef& def, const PathNode& path,
                      IssueSink* sink);

// Checks one contained or entry resource's resourceType: present, a string, an R4 type.
// Reports at path.resourceType and returns false when it is not usable.
bool CheckResourceType(simdjson::dom::object resource, const PathNode& path, IssueSink* sink,
                       std::string_view* type);

}  // namespace eds::ingest::fhir::internal
