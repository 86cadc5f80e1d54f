// R4 element tables of Patient, Encounter, Condition, Observation, Procedure and
// DiagnosticReport (hl7.org/fhir/R4/<type>.html), and the lookup of all understood types.
#include "ingest/fhir/internal/schema.h"
#include "ingest/fhir/internal/schema_builders.h"
#include "ingest/fhir/internal/schema_value_sets.h"

namespace eds::ingest::fhir::internal {

using namespace schema_builders;  // NOLINT(google-build-using-namespace): table shorthands.
using namespace value_sets;       // NOLINT(google-build-using-namespace): table shorthands.

namespace {

constexpr ElementDef kPatient[] = {
    C("identifier", kIdentifierDef, kRep),
    P("active", Kind::kBoolean),
    O("name", kRep),
    O("telecom", kRep),
    P("gender", Kind::kCode, kOpt, &kGender),
    P("birthDate", Kind::kDate),
    XP("deceased", "deceasedBoolean", Kind::kBoolean),
    XP("deceased", "deceasedDateTime", Kind::kDateTime),
    O("address", kRep),
    Cc("maritalStatus"),
    XP("multipleBirth", "multipleBirthBoolean", Kind::kBoolean),
    XP("multipleBirth", "multipleBirthInteger", Kind::kInteger),
    O("photo", kRep),
    O("contact", kRep),
    O("communication", kRep),
    R("generalPractitioner", kRep),
    R("managingOrganization"),
    O("link", kRep),
};

constexpr ElementDef kEncounterParticipant[] = {
    Cc("type", kRep),
    C("period", kPeriodDef),
    R("individual"),
};
constexpr TypeDef kEncounterParticipantDef{"Encounter.participant", kBackboneBase,
                                           kEncounterParticipant};
constexpr ElementDef kEncounterDiagnosis[] = {
    R("condition", kReq),
    Cc("use"),
    P("rank", Kind::kPositiveInt),
};
constexpr TypeDef kEncounterDiagnosisDef{"Encounter.diagnosis", kBackboneBase, kEncounterDiagnosis};
constexpr ElementDef kEncounterHospitalization[] = {
    C("preAdmissionIdentifier", kIdentifierDef),
    R("origin"),
    Cc("admitSource"),
    Cc("reAdmission"),
    Cc("dietPreference", kRep),
    Cc("specialCourtesy", kRep),
    Cc("specialArrangement", kRep),
    R("destination"),
    Cc("dischargeDisposition"),
};
constexpr TypeDef kEncounterHospitalizationDef{"Encounter.hospitalization", kBackboneBase,
                                               kEncounterHospitalization};
constexpr ElementDef kEncounterLocation[] = {
    R("location", kReq),
    P("status", Kind::kCode, kOpt, &kEncounterLocationStatus),
    Cc("physicalType"),
    C("period", kPeriodDef),
};
constexpr TypeDef kEncounterLocationDef{"Encounter.location", kBackboneBase, kEncounterLocation};

constexpr ElementDef kEncounter[] = {
    C("identifier", kIdentifierDef, kRep),
    P("status", Kind::kCode, kReq, &kEncounterStatus),
    O("statusHistory", kRep),
    C("class", kCodingDef, kReq),
    O("classHistory", kRep),
    Cc("type", kRep),
    Cc("serviceType"),
    Cc("priority"),
    R("subject"),
    R("episodeOfCare", kRep),
    R("basedOn", kRep),
    C("participant", kEncounterParticipantDef, kRep),
    R("appointment", kRep),
    C("period", kPeriodDef),
    C("length", kQuantityDef),
    Cc("reasonCode", kRep),
    R("reasonReference", kRep),
    C("diagnosis", kEncounterDiagnosisDef, kRep),
    R("account", kRep),
    C("hospitalization", kEncounterHospitalizationDef),
    C("location", kEncounterLocationDef, kRep),
    R("serviceProvider"),
    R("partOf"),
};

constexpr ElementDef kCondition[] = {
    C("identifier", kIdentifierDef, kRep),
    Cc("clinicalStatus", kOpt, &kConditionClinical),
    Cc("verificationStatus", kOpt, &kConditionVerification),
    Cc("category", kRep),
    Cc("severity"),
    Cc("code"),
    Cc("bodySite", kRep),
    R("subject", kReq),
    R("encounter"),
    XP("onset", "onsetDateTime", Kind::kDateTime),
    XC("onset", "onsetAge", kQuantityDef),
    XC("onset", "onsetPeriod", kPeriodDef),
    XC("onset", "onsetRange", kRangeDef),
    XP("onset", "onsetString", Kind::kString),
    XP("abatement", "abatementDateTime", Kind::kDateTime),
    XC("abatement", "abatementAge", kQuantityDef),
    XC("abatement", "abatementPeriod", kPeriodDef),
    XC("abatement", "abatementRange", kRangeDef),
    XP("abatement", "abatementString", Kind::kString),
    P("recordedDate", Kind::kDateTime),
    R("recorder"),
    R("asserter"),
    O("stage", kRep),
    O("evidence", kRep),
    C("note", kAnnotationDef, kRep),
};

constexpr ElementDef kObservationReferenceRange[] = {
    C("low", kQuantityDef), C("high", kQuantityDef), Cc("type"),
    Cc("appliesTo", kRep),  C("age", kRangeDef),     P("text", Kind::kString),
};
constexpr TypeDef kObservationReferenceRangeDef{"Observation.referenceRange", kBackboneBase,
                                                kObservationReferenceRange};

// Observation.value[x] and Observation.component.value[x] share their eleven types.
#define EDS_FHIR_OBSERVATION_VALUE                                                            \
  XC("value", "valueQuantity", kQuantityDef),                                                 \
      XC("value", "valueCodeableConcept", kCodeableConceptDef),                               \
      XP("value", "valueString", Kind::kString), XP("value", "valueBoolean", Kind::kBoolean), \
      XP("value", "valueInteger", Kind::kInteger), XC("value", "valueRange", kRangeDef),      \
      XO("value", "valueRatio"), XO("value", "valueSampledData"),                             \
      XP("value", "valueTime", Kind::kTime), XP("value", "valueDateTime", Kind::kDateTime),   \
      XC("value", "valuePeriod", kPeriodDef)

constexpr ElementDef kObservationComponent[] = {
    Cc("code", kReq),
    EDS_FHIR_OBSERVATION_VALUE,
    Cc("dataAbsentReason"),
    Cc("interpretation", kRep),
    C("referenceRange", kObservationReferenceRangeDef, kRep),
};
constexpr TypeDef kObservationComponentDef{"Observation.component", kBackboneBase,
                                           kObservationComponent};

constexpr ElementDef kObservation[] = {
    C("identifier", kIdentifierDef, kRep),
    R("basedOn", kRep),
    R("partOf", kRep),
    P("status", Kind::kCode, kReq, &kObservationStatus),
    Cc("category", kRep),
    Cc("code", kReq),
    R("subject"),
    R("focus", kRep),
    R("encounter"),
    XP("effective", "effectiveDateTime", Kind::kDateTime),
    XC("effective", "effectivePeriod", kPeriodDef),
    XO("effective", "effectiveTiming"),
    XP("effective", "effectiveInstant", Kind::kInstant),
    P("issued", Kind::kInstant),
    R("performer", kRep),
    EDS_FHIR_OBSERVATION_VALUE,
    Cc("dataAbsentReason"),
    Cc("interpretation", kRep),
    C("note", kAnnotationDef, kRep),
    Cc("bodySite"),
    Cc("method"),
    R("specimen"),
    R("device"),
    C("referenceRange", kObservationReferenceRangeDef, kRep),
    R("hasMember", kRep),
    R("derivedFrom", kRep),
    C("component", kObservationComponentDef, kRep),
};
#undef EDS_FHIR_OBSERVATION_VALUE

constexpr ElementDef kProcedure[] = {
    C("identifier", kIdentifierDef, kRep),
    P("instantiatesCanonical", Kind::kString, kRep),
    P("instantiatesUri", Kind::kString, kRep),
    R("basedOn", kRep),
    R("partOf", kRep),
    P("status", Kind::kCode, kReq, &kEventStatus),
    Cc("statusReason"),
    Cc("category"),
    Cc("code"),
    R("subject", kReq),
    R("encounter"),
    XP("performed", "performedDateTime", Kind::kDateTime),
    XC("performed", "performedPeriod", kPeriodDef),
    XP("performed", "performedString", Kind::kString),
    XC("performed", "performedAge", kQuantityDef),
    XC("performed", "performedRange", kRangeDef),
    R("recorder"),
    R("asserter"),
    O("performer", kRep),
    R("location"),
    Cc("reasonCode", kRep),
    R("reasonReference", kRep),
    Cc("bodySite", kRep),
    Cc("outcome"),
    R("report", kRep),
    Cc("complication", kRep),
    R("complicationDetail", kRep),
    Cc("followUp", kRep),
    C("note", kAnnotationDef, kRep),
    O("focalDevice", kRep),
    R("usedReference", kRep),
    Cc("usedCode", kRep),
};

constexpr ElementDef kDiagnosticReport[] = {
    C("identifier", kIdentifierDef, kRep),
    R("basedOn", kRep),
    P("status", Kind::kCode, kReq, &kDiagnosticReportStatus),
    Cc("category", kRep),
    Cc("code", kReq),
    R("subject"),
    R("encounter"),
    XP("effective", "effectiveDateTime", Kind::kDateTime),
    XC("effective", "effectivePeriod", kPeriodDef),
    P("issued", Kind::kInstant),
    R("performer", kRep),
    R("resultsInterpreter", kRep),
    R("specimen", kRep),
    R("result", kRep),
    R("imagingStudy", kRep),
    O("media", kRep),
    P("conclusion", Kind::kString),
    Cc("conclusionCode", kRep),
    O("presentedForm", kRep),
};

static_assert(Fits(kDomainResourceBase, kPatient) && Fits(kDomainResourceBase, kEncounter) &&
              Fits(kDomainResourceBase, kCondition) && Fits(kDomainResourceBase, kObservation) &&
              Fits(kDomainResourceBase, kProcedure) &&
              Fits(kDomainResourceBase, kDiagnosticReport) &&
              Fits(kBackboneBase, kObservationComponent));

}  // namespace

constinit const TypeDef kPatientDef{"Patient", kDomainResourceBase, kPatient};
constinit const TypeDef kEncounterDef{"Encounter", kDomainResourceBase, kEncounter};
constinit const TypeDef kConditionDef{"Condition", kDomainResourceBase, kCondition};
constinit const TypeDef kObservationDef{"Observation", kDomainResourceBase, kObservation};
constinit const TypeDef kProcedureDef{"Procedure", kDomainResourceBase, kProcedure};
constinit const TypeDef kDiagnosticReportDef{"DiagnosticReport", kDomainResourceBase,
                                             kDiagnosticReport};

const TypeDef* FindResourceDef(std::string_view resource_type) {
  static constexpr const TypeDef* kUnderstood[] = {
      &kPatientDef,           &kEncounterDef,
      &kConditionDef,         &kObservationDef,
      &kProcedureDef,         &kDiagnosticReportDef,
      &kMedicationRequestDef, &kMedicationAdministrationDef,
      &kImmunizationDef,      &kAllergyIntoleranceDef,
  };
  for (const TypeDef* def : kUnderstood) {
    if (def->name == resource_type) return def;
  }
  return nullptr;
}

}  // namespace eds::ingest::fhir::internal
