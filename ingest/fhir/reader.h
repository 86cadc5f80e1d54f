// FHIR R4 JSON reader: validates one resource (an NDJSON line, a PUT/POST body) or a batch or
// transaction Bundle, and extracts what pseudonymisation and fact extraction need, so that the
// stored text never has to be parsed again.
//
// Errors: kInvalidArgument, and `issues` (when not null) receives every problem found, each with
// the FHIRPath of its element; warnings (unknown elements of understood types) are added
// without making the call fail. Expressions start at the resource type ("Observation.status"),
// at "Bundle.entry[i].resource" inside a Bundle, and at "Resource.resourceType" when the type
// itself is missing or wrong. Malformed JSON gives one "structure" issue whose diagnostics name
// the character offset, line and column.
//
// Thread-safe: each thread keeps its own parser buffers, which grow to the largest input seen.
// Results own their data and do not refer to the input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "ingest/fhir/operation_outcome.h"

namespace eds::ingest::fhir {

// Resource types whose content is validated and extracted; all other R4 types are kOther and
// are checked for resourceType and id only.
enum class ResourceKind {
  kOther,
  kPatient,
  kEncounter,
  kCondition,
  kObservation,
  kProcedure,
  kMedicationRequest,
  kMedicationAdministration,
  kDiagnosticReport,
  kImmunization,
  kAllergyIntolerance,
};

struct Coding {
  std::string system;
  std::string code;
};

struct Identifier {
  std::string system;
  std::string value;
};

// A Reference.reference found anywhere in the resource, contained resources included.
struct FoundReference {
  // Path of the reference string below the resource root, e.g. "subject.reference" or
  // "performer[0].reference"; prefix it with the resource's own expression for an issue.
  std::string path;
  std::string reference;  // As written: "Patient/123", "urn:uuid:...", "#contained-id", ...
};

// One Observation.component (blood pressure parts, panels).
struct ObservationComponent {
  std::vector<Coding> codes;        // component.code codings.
  std::optional<double> value;      // component.valueQuantity.value.
  std::string unit;                 // valueQuantity.code, else valueQuantity.unit.
  std::vector<Coding> value_codes;  // component.valueCodeableConcept codings.
};

// A validated resource. Extracted fields are empty when absent from the resource.
struct ParsedResource {
  std::string resource_type;
  ResourceKind kind = ResourceKind::kOther;
  std::string id;    // Resource.id; may be empty (POST).
  std::string json;  // The resource as received, whitespace outside strings removed.

  // All types.
  // Top-level "status" when it is a code; "entered-in-error" also when verificationStatus
  // says so (Condition, AllergyIntolerance). Entered-in-error resources have no facts.
  std::string status;
  // subject.reference, else patient.reference (Immunization, AllergyIntolerance, Claim, ...).
  std::string subject_reference;
  // encounter.reference, or MedicationAdministration.context.reference.
  std::string encounter_reference;
  std::vector<FoundReference> references;

  // Patient only.
  std::vector<Identifier> identifiers;  // Patient.identifier entries with a value.
  std::string gender;
  std::string birth_date;
  std::optional<bool> deceased;  // deceasedBoolean, or true when deceasedDateTime is set.
  std::string deceased_date_time;

  // Understood clinical types: the codings of the main code: Condition/Observation/Procedure/
  // DiagnosticReport/AllergyIntolerance.code, Medication*.medicationCodeableConcept,
  // Immunization.vaccineCode; for Encounter, Encounter.class then the Encounter.type codings.
  std::vector<Coding> codes;
  // The main date as written (FHIR date, dateTime or instant), chosen in this order:
  // Observation effectiveDateTime, effectivePeriod.start, effectiveInstant, issued;
  // Condition onsetDateTime, onsetPeriod.start, recordedDate; Encounter period.start;
  // Procedure performedDateTime, performedPeriod.start; MedicationRequest authoredOn;
  // MedicationAdministration effectiveDateTime, effectivePeriod.start; DiagnosticReport
  // effectiveDateTime, effectivePeriod.start, issued; Immunization occurrenceDateTime;
  // AllergyIntolerance recordedDate, onsetDateTime.
  std::string date;

  // Encounter only.
  std::optional<Coding> encounter_class;
  // Care unit: location[0].location.reference, else its display (HL7 v2 PV1-3), else
  // serviceProvider.reference.
  std::string care_unit_reference;
  std::string end_date;                       // period.end as written
  std::vector<Coding> discharge_disposition;  // hospitalization.dischargeDisposition codings.

  // Observation only.
  std::optional<double> value;      // valueQuantity.value.
  std::string unit;                 // valueQuantity.code (UCUM), else valueQuantity.unit.
  std::vector<Coding> value_codes;  // valueCodeableConcept codings.
  std::vector<ObservationComponent> components;
};

enum class BundleType { kBatch, kTransaction };

// Bundle.entry.request.method (R4 HTTPVerb).
enum class HttpMethod { kGet, kHead, kPost, kPut, kDelete, kPatch };

struct BundleEntry {
  size_t index = 0;  // Position in Bundle.entry, as in the expressions.
  std::string full_url;
  HttpMethod method = HttpMethod::kPost;
  std::string url;            // request.url: "Patient", "Patient/123", "Patient?identifier=..".
  std::string if_none_exist;  // request.ifNoneExist (conditional create), or empty.
  std::string if_match;       // request.ifMatch, or empty.
  ParsedResource resource;    // Meaningful only when status is OK.
  // Batch only: an entry that cannot be processed has a non-OK status and its issues here
  // (they are also in the call's `issues`); the other entries go on. Always OK in a transaction.
  Status status;
  std::vector<Issue> issues;
};

struct ParsedBundle {
  BundleType type = BundleType::kTransaction;
  std::string id;
  std::vector<BundleEntry> entries;
};

// Whether `id` is a valid FHIR id ([A-Za-z0-9-.]{1,64}), for ids made here rather than read.
bool IsValidId(std::string_view id);

// Validates and extracts one resource of any R4 type (a Bundle of any type is read as a plain
// resource, without reference resolution).
Result<ParsedResource> ReadResource(std::string_view json, std::vector<Issue>* issues);

// Reads a Bundle of type batch or transaction (other types: "not-supported"). Every entry needs
// request.method POST or PUT (GET, HEAD, DELETE and PATCH: "not-supported"), request.url naming
// the resource type, and a resource; every "urn:uuid:" reference must be the fullUrl of an entry
// ("not-found" at the reference). A transaction fails as a whole on any error; a batch fails
// only for problems of the Bundle itself (see BundleEntry::status).
Result<ParsedBundle> ReadBundle(std::string_view json, std::vector<Issue>* issues);

}  // namespace eds::ingest::fhir
