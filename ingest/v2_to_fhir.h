// V2ToFhir: maps a supported HL7 v2 message (ADT^A01..A40, ORU^R01) to FHIR R4 resources,
// following the HL7 v2-to-FHIR mapping for the elements the box uses: PID -> Patient,
// PV1 (+ZBE) -> Encounter, OBR -> DiagnosticReport, OBX -> Observation. Resources reference the
// patient as "Patient/<patient_id>" (the caller's pseudonymous id) and each other by the ids
// given here. Pure function of its inputs; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/hl7/error.h"
#include "ingest/hl7/message.h"
#include "ingest/pseudonymizer.h"

namespace eds::ingest {

struct MappedResource {
  std::string type;  // "Patient", "Encounter", ...
  std::string id;
  std::string json;  // compact FHIR R4 JSON
};

struct V2Mapping {
  std::vector<Identifier> identifiers;         // PID-3 repetitions, for pseudonymisation
  std::vector<Identifier> merged_identifiers;  // MRG-1 of an A40 (the patient merged away)
  std::vector<MappedResource> resources;
};

// PID-3 identifiers of a message (CX: value, assigning authority namespace/OID, type code).
std::vector<Identifier> PatientIdentifiers(const hl7::Hl7Message& message);

// `patient_id` is the logical id the Patient gets (derived from the pseudonym by the caller);
// `local_offset` (e.g. "+01:00") completes v2 timestamps that carry no offset.
// Errors: an Hl7Error (code 101/102 with location) for content the mapping needs and lacks.
Result<V2Mapping> MapV2ToFhir(const hl7::Hl7Message& message, const std::string& patient_id,
                              const std::string& local_offset, hl7::Hl7Error* error);

// HL7 v2 TS/DTM "YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]" to a FHIR date or dateTime; "" when
// malformed.
std::string V2TimestampToFhir(std::string_view ts, const std::string& local_offset);

}  // namespace eds::ingest
