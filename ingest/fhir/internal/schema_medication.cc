// R4 element tables of MedicationRequest, MedicationAdministration, Immunization and
// AllergyIntolerance (hl7.org/fhir/R4/<type>.html).
#include "ingest/fhir/internal/schema.h"
#include "ingest/fhir/internal/schema_builders.h"
#include "ingest/fhir/internal/schema_value_sets.h"

namespace eds::ingest::fhir::internal {

using namespace schema_builders;  // NOLINT(google-build-using-namespace): table shorthands.
using namespace value_sets;       // NOLINT(google-build-using-namespace): table shorthands.

namespace {

constexpr ElementDef kMedicationRequest[] = {
    C("identifier", kIdentifierDef, kRep),
    P("status", Kind::kCode, kReq, &kMedicationRequestStatus),
    Cc("statusReason"),
    P("intent", Kind::kCode, kReq, &kMedicationRequestIntent),
    Cc("category", kRep),
    P("priority", Kind::kCode, kOpt, &kRequestPriority),
    P("doNotPerform", Kind::kBoolean),
    XP("reported", "reportedBoolean", Kind::kBoolean),
    XC("reported", "reportedReference", kReferenceDef),
    XC("medication", "medicationCodeableConcept", kCodeableConceptDef),
    XC("medication", "medicationReference", kReferenceDef),
    R("subject", kReq),
    R("encounter"),
    R("supportingInformation", kRep),
    P("authoredOn", Kind::kDateTime),
    R("requester"),
    R("performer"),
    Cc("performerType"),
    R("recorder"),
    Cc("reasonCode", kRep),
    R("reasonReference", kRep),
    P("instantiatesCanonical", Kind::kString, kRep),
    P("instantiatesUri", Kind::kString, kRep),
    R("basedOn", kRep),
    C("groupIdentifier", kIdentifierDef),
    Cc("courseOfTherapyType"),
    R("insurance", kRep),
    C("note", kAnnotationDef, kRep),
    O("dosageInstruction", kRep),
    O("dispenseRequest"),
    O("substitution"),
    R("priorPrescription"),
    R("detectedIssue", kRep),
    R("eventHistory", kRep),
};
constexpr std::string_view kMedicationRequestChoices[] = {"medication"};

constexpr ElementDef kMedicationAdministration[] = {
    C("identifier", kIdentifierDef, kRep),
    P("instantiates", Kind::kString, kRep),
    R("partOf", kRep),
    P("status", Kind::kCode, kReq, &kMedicationAdminStatus),
    Cc("statusReason", kRep),
    Cc("category"),
    XC("medication", "medicationCodeableConcept", kCodeableConceptDef),
    XC("medication", "medicationReference", kReferenceDef),
    R("subject", kReq),
    R("context"),
    R("supportingInformation", kRep),
    XP("effective", "effectiveDateTime", Kind::kDateTime),
    XC("effective", "effectivePeriod", kPeriodDef),
    O("performer", kRep),
    Cc("reasonCode", kRep),
    R("reasonReference", kRep),
    R("request"),
    R("device", kRep),
    C("note", kAnnotationDef, kRep),
    O("dosage"),
    R("eventHistory", kRep),
};
constexpr std::string_view kMedicationAdministrationChoices[] = {"medication", "effective"};

constexpr ElementDef kImmunization[] = {
    C("identifier", kIdentifierDef, kRep),
    P("status", Kind::kCode, kReq, &kImmunizationStatus),
    Cc("statusReason"),
    Cc("vaccineCode", kReq),
    R("patient", kReq),
    R("encounter"),
    XP("occurrence", "occurrenceDateTime", Kind::kDateTime),
    XP("occurrence", "occurrenceString", Kind::kString),
    P("recorded", Kind::kDateTime),
    P("primarySource", Kind::kBoolean),
    Cc("reportOrigin"),
    R("location"),
    R("manufacturer"),
    P("lotNumber", Kind::kString),
    P("expirationDate", Kind::kDate),
    Cc("site"),
    Cc("route"),
    C("doseQuantity", kQuantityDef),
    O("performer", kRep),
    C("note", kAnnotationDef, kRep),
    Cc("reasonCode", kRep),
    R("reasonReference", kRep),
    P("isSubpotent", Kind::kBoolean),
    Cc("subpotentReason", kRep),
    O("education", kRep),
    Cc("programEligibility", kRep),
    Cc("fundingSource"),
    O("reaction", kRep),
    O("protocolApplied", kRep),
};
constexpr std::string_view kImmunizationChoices[] = {"occurrence"};

constexpr ElementDef kAllergyIntolerance[] = {
    C("identifier", kIdentifierDef, kRep),
    Cc("clinicalStatus", kOpt, &kAllergyClinical),
    Cc("verificationStatus", kOpt, &kAllergyVerification),
    P("type", Kind::kCode, kOpt, &kAllergyType),
    P("category", Kind::kCode, kRep, &kAllergyCategory),
    P("criticality", Kind::kCode, kOpt, &kAllergyCriticality),
    Cc("code"),
    R("patient", kReq),
    R("encounter"),
    XP("onset", "onsetDateTime", Kind::kDateTime),
    XC("onset", "onsetAge", kQuantityDef),
    XC("onset", "onsetPeriod", kPeriodDef),
    XC("onset", "onsetRange", kRangeDef),
    XP("onset", "onsetString", Kind::kString),
    P("recordedDate", Kind::kDateTime),
    R("recorder"),
    R("asserter"),
    P("lastOccurrence", Kind::kDateTime),
    C("note", kAnnotationDef, kRep),
    O("reaction", kRep),
};

static_assert(Fits(kDomainResourceBase, kMedicationRequest) &&
              Fits(kDomainResourceBase, kMedicationAdministration) &&
              Fits(kDomainResourceBase, kImmunization) &&
              Fits(kDomainResourceBase, kAllergyIntolerance));

}  // namespace

constinit const TypeDef kMedicationRequestDef{"MedicationRequest", kDomainResourceBase,
                                              kMedicationRequest, kMedicationRequestChoices};
constinit const TypeDef kMedicationAdministrationDef{"MedicationAdministration",
                                                     kDomainResourceBase, kMedicationAdministration,
                                                     kMedicationAdministrationChoices};
constinit const TypeDef kImmunizationDef{"Immunization", kDomainResourceBase, kImmunization,
                                         kImmunizationChoices};
constinit const TypeDef kAllergyIntoleranceDef{"AllergyIntolerance", kDomainResourceBase,
                                               kAllergyIntolerance};

}  // namespace eds::ingest::fhir::internal
