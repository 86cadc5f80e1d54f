// The FHIR R4 (4.0.1) resource type names, for checking Resource.resourceType and for the
// CapabilityStatement. Immutable data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace eds::ingest::fhir {

// Every concrete R4 resource type, sorted by byte value (146 names).
std::span<const std::string_view> R4ResourceTypes();

// True when `name` is exactly one of R4ResourceTypes() (case-sensitive, as FHIR is).
bool IsR4ResourceType(std::string_view name);

}  // namespace eds::ingest::fhir
