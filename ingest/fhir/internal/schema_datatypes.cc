// R4 data types used by the understood resources (hl7.org/fhir/R4/datatypes.html).
#include "ingest/fhir/internal/schema.h"
#include "ingest/fhir/internal/schema_builders.h"

namespace eds::ingest::fhir::internal {

using namespace schema_builders;  // NOLINT(google-build-using-namespace): table shorthands.

namespace {

constexpr std::string_view kComparatorCodes[] = {"<", "<=", ">=", ">"};
constexpr ValueSet kComparator{{}, kComparatorCodes};
constexpr std::string_view kIdentifierUseCodes[] = {"usual", "official", "temp", "secondary",
                                                    "old"};
constexpr ValueSet kIdentifierUse{{}, kIdentifierUseCodes};
constexpr std::string_view kNarrativeStatusCodes[] = {"generated", "extensions", "additional",
                                                      "empty"};
constexpr ValueSet kNarrativeStatus{{}, kNarrativeStatusCodes};

constexpr ElementDef kCoding[] = {
    P("system", Kind::kString),  P("version", Kind::kString),       P("code", Kind::kCode),
    P("display", Kind::kString), P("userSelected", Kind::kBoolean),
};
constexpr ElementDef kCodeableConcept[] = {
    C("coding", kCodingDef, kRep),
    P("text", Kind::kString),
};
constexpr ElementDef kReference[] = {
    P("reference", Kind::kString),
    P("type", Kind::kString),
    C("identifier", kIdentifierDef),
    P("display", Kind::kString),
};
constexpr ElementDef kPeriod[] = {
    P("start", Kind::kDateTime),
    P("end", Kind::kDateTime),
};
constexpr ElementDef kQuantity[] = {
    P("value", Kind::kDecimal), P("comparator", Kind::kCode, kOpt, &kComparator),
    P("unit", Kind::kString),   P("system", Kind::kString),
    P("code", Kind::kCode),
};
constexpr ElementDef kIdentifier[] = {
    P("use", Kind::kCode, kOpt, &kIdentifierUse),
    Cc("type"),
    P("system", Kind::kString),
    P("value", Kind::kString),
    C("period", kPeriodDef),
    R("assigner"),
};
constexpr ElementDef kRange[] = {
    C("low", kQuantityDef),
    C("high", kQuantityDef),
};
constexpr ElementDef kAnnotation[] = {
    XC("author", "authorReference", kReferenceDef),
    XP("author", "authorString", Kind::kString),
    P("time", Kind::kDateTime),
    P("text", Kind::kString, kReq),
};
constexpr ElementDef kMeta[] = {
    P("versionId", Kind::kId),         P("lastUpdated", Kind::kInstant), P("source", Kind::kString),
    P("profile", Kind::kString, kRep), C("security", kCodingDef, kRep),  C("tag", kCodingDef, kRep),
};
constexpr ElementDef kNarrative[] = {
    P("status", Kind::kCode, kReq, &kNarrativeStatus),
    P("div", Kind::kString, kReq),
};

}  // namespace

constinit const ElementDef kElementBase[2] = {
    P("id", Kind::kString),
    O("extension", kRep),
};
constinit const ElementDef kBackboneBase[3] = {
    P("id", Kind::kString),
    O("extension", kRep),
    O("modifierExtension", kRep),
};
constinit const ElementDef kDomainResourceBase[8] = {
    P("id", Kind::kId),         C("meta", kMetaDef),          P("implicitRules", Kind::kString),
    P("language", Kind::kCode), C("text", kNarrativeDef),     P("contained", Kind::kResource, kRep),
    O("extension", kRep),       O("modifierExtension", kRep),
};

constinit const TypeDef kCodingDef{"Coding", kElementBase, kCoding};
constinit const TypeDef kCodeableConceptDef{"CodeableConcept", kElementBase, kCodeableConcept};
constinit const TypeDef kReferenceDef{"Reference", kElementBase, kReference};
constinit const TypeDef kPeriodDef{"Period", kElementBase, kPeriod};
constinit const TypeDef kQuantityDef{"Quantity", kElementBase, kQuantity};
constinit const TypeDef kIdentifierDef{"Identifier", kElementBase, kIdentifier};
constinit const TypeDef kRangeDef{"Range", kElementBase, kRange};
constinit const TypeDef kAnnotationDef{"Annotation", kElementBase, kAnnotation};
constinit const TypeDef kMetaDef{"Meta", kElementBase, kMeta};
constinit const TypeDef kNarrativeDef{"Narrative", kElementBase, kNarrative};

const ElementDef* FindElement(const TypeDef& type, std::string_view name) {
  // Linear: at most ~60 names, and comparing lengths first rejects nearly all of them.
  for (const ElementDef& e : type.base) {
    if (e.name == name) return &e;
  }
  for (const ElementDef& e : type.elements) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace eds::ingest::fhir::internal
