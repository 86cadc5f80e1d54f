// Shorthands for writing the element tables of schema_*.cc compactly. Compile-time only.
#pragma once

#include "ingest/fhir/internal/schema.h"

namespace eds::ingest::fhir::internal::schema_builders {

constexpr Card kOpt = Card::kOptional;
constexpr Card kReq = Card::kRequired;
constexpr Card kRep = Card::kRepeated;

// A primitive element.
constexpr ElementDef P(std::string_view name, Kind kind, Card card = kOpt,
                       const ValueSet* value_set = nullptr) {
  return ElementDef{name, kind, card, nullptr, value_set, {}};
}
// A complex element checked against `type`.
constexpr ElementDef C(std::string_view name, const TypeDef& type, Card card = kOpt,
                       const ValueSet* value_set = nullptr) {
  return ElementDef{name, Kind::kComplex, card, &type, value_set, {}};
}
// A CodeableConcept.
constexpr ElementDef Cc(std::string_view name, Card card = kOpt,
                        const ValueSet* value_set = nullptr) {
  return C(name, kCodeableConceptDef, card, value_set);
}
// A Reference.
constexpr ElementDef R(std::string_view name, Card card = kOpt) {
  return C(name, kReferenceDef, card);
}
// An object whose content is not inspected.
constexpr ElementDef O(std::string_view name, Card card = kOpt) {
  return ElementDef{name, Kind::kObject, card, nullptr, nullptr, {}};
}
// One typed alternative of a choice element x[x]: primitive, complex or opaque object.
constexpr ElementDef XP(std::string_view choice, std::string_view name, Kind kind) {
  return ElementDef{name, kind, kOpt, nullptr, nullptr, choice};
}
constexpr ElementDef XC(std::string_view choice, std::string_view name, const TypeDef& type) {
  return ElementDef{name, Kind::kComplex, kOpt, &type, nullptr, choice};
}
constexpr ElementDef XO(std::string_view choice, std::string_view name) {
  return ElementDef{name, Kind::kObject, kOpt, nullptr, nullptr, choice};
}

// For static_assert: a table and its base fit the validator's set of seen elements.
template <size_t kBase, size_t kOwn>
constexpr bool Fits(const ElementDef (&)[kBase], const ElementDef (&)[kOwn]) {
  return kBase + kOwn <= kMaxElementsPerType;
}

}  // namespace eds::ingest::fhir::internal::schema_builders
