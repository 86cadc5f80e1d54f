// Element tables for the FHIR R4 resource types this node understands and for the data types
// their elements use: names, JSON kinds, cardinality, required value sets and choice groups.
// Constant data (no dynamic initialisation); thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace eds::ingest::fhir::internal {

enum class Kind : uint8_t {
  kString,       // string, markdown, uri, url, canonical, xhtml: any JSON string.
  kCode,         // code: [^\s]+(\s[^\s]+)*, and in `value_set` when one is given.
  kId,           // id: [A-Za-z0-9\-\.]{1,64}
  kBoolean,      // JSON true/false.
  kDecimal,      // any JSON number.
  kInteger,      // JSON integer in the int32 range.
  kPositiveInt,  // integer >= 1.
  kUnsignedInt,  // integer >= 0.
  kDate,
  kDateTime,
  kInstant,
  kTime,
  kComplex,   // JSON object checked against `type`.
  kObject,    // JSON object whose content is not inspected (data types we do not use).
  kResource,  // JSON object with a valid resourceType (contained resources).
};

enum class Card : uint8_t {
  kOptional,          // 0..1
  kRequired,          // 1..1
  kRepeated,          // 0..*
  kRepeatedRequired,  // 1..*
};

// Codes of a required binding. For CodeableConcept/Coding elements only codings whose system is
// `system` are checked (other systems may translate the concept).
struct ValueSet {
  std::string_view system;
  std::span<const std::string_view> codes;
};

struct TypeDef;

// Most base + own elements in one table; the validator tracks the elements seen in a bitset of
// this size, and each table file checks its tables against it at compile time.
inline constexpr size_t kMaxElementsPerType = 96;

struct ElementDef {
  std::string_view name;  // JSON property name; for a choice, the typed name ("valueQuantity").
  Kind kind;
  Card card;
  const TypeDef* type = nullptr;        // For kComplex.
  const ValueSet* value_set = nullptr;  // For kCode, or the codings of a kComplex.
  std::string_view choice = {};         // Choice group ("value" for value[x]), else empty.
};

struct TypeDef {
  std::string_view name;
  // Elements inherited from Element/BackboneElement/DomainResource, then the type's own.
  std::span<const ElementDef> base;
  std::span<const ElementDef> elements;
  // Choice groups with cardinality 1..1 ("medication" for MedicationRequest.medication[x]).
  std::span<const std::string_view> required_choices = {};
};

// Data types used by the resource tables.
extern const TypeDef kCodingDef;
extern const TypeDef kCodeableConceptDef;
extern const TypeDef kReferenceDef;
extern const TypeDef kPeriodDef;
extern const TypeDef kQuantityDef;
extern const TypeDef kIdentifierDef;
extern const TypeDef kRangeDef;
extern const TypeDef kAnnotationDef;
extern const TypeDef kMetaDef;
extern const TypeDef kNarrativeDef;
// Base elements. Arrays with their sizes, not spans, so that the tables in other files can be
// initialised at compile time.
extern const ElementDef kElementBase[2];
extern const ElementDef kBackboneBase[3];
extern const ElementDef kDomainResourceBase[8];

// Resource tables.
extern const TypeDef kPatientDef;
extern const TypeDef kEncounterDef;
extern const TypeDef kConditionDef;
extern const TypeDef kObservationDef;
extern const TypeDef kProcedureDef;
extern const TypeDef kDiagnosticReportDef;
extern const TypeDef kMedicationRequestDef;
extern const TypeDef kMedicationAdministrationDef;
extern const TypeDef kImmunizationDef;
extern const TypeDef kAllergyIntoleranceDef;

// The table for an understood resource type, or nullptr for the types stored as they are.
const TypeDef* FindResourceDef(std::string_view resource_type);

// The element called `name` in `type` (base elements first), or nullptr.
const ElementDef* FindElement(const TypeDef& type, std::string_view name);

}  // namespace eds::ingest::fhir::internal
