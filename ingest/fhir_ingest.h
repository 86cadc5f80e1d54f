// FhirIngest: the FHIR R4 REST logic of the box, free of any HTTP server: POST /fhir with a batch
// or transaction Bundle (a transaction is one atomic, durable write; a batch answers per entry),
// PUT /fhir/{type}/{id}, POST /fhir/{type}, GET /fhir/{type}/{id} (audited), GET /fhir/metadata.
// Patients are pseudonymised at the door (identifiers -> pseudonym, aliases kept sealed);
// every other resource is filed under the patient its subject/patient reference names.
// Errors answer an OperationOutcome (400/404/405/415/422) and store nothing. A 2xx means durable.
// Thread-safe; `store` must outlive it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingest/fhir/reader.h"
#include "ingest/ingest_errors.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"

namespace eds::ingest {

struct FhirResponse {
  int status = 200;
  std::string body;      // FHIR JSON
  std::string location;  // Location header for 201, else empty
};

class FhirIngest {
 public:
  // `store`, `pseudonymizer` and `errors` (may be null) must outlive it. Refused writes (4xx, and
  // refused entries of a batch) leave their issues in `errors`.
  FhirIngest(storage::Store& store, const Pseudonymizer& pseudonymizer, std::string base_url,
             IngestErrorLog* errors = nullptr);

  // `path` is what follows "/fhir" ("", "/metadata", "/Patient/123"); `content_type` is the
  // request's header (a body that is not FHIR JSON answers 415; an absent one is read as JSON);
  // `actor` names the caller for the audit log (token name and address).
  FhirResponse Handle(const std::string& method, const std::string& path, const std::string& body,
                      std::string_view content_type, const std::string& actor);

  // The CapabilityStatement this endpoint serves.
  std::string CapabilityStatement() const;

 private:
  FhirResponse Route(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& actor);
  void NoteIssues(const std::vector<fhir::Issue>& issues, int status,
                  const std::string& actor) const;
  FhirResponse PostBundle(const std::string& body, const std::string& actor);
  FhirResponse WriteOne(const std::string& type, const std::string& id, const std::string& body,
                        const std::string& actor);
  FhirResponse Read(const std::string& type, const std::string& id, const std::string& actor);

  storage::Store& store_;
  const Pseudonymizer& pseudonymizer_;
  std::string base_url_;
  IngestErrorLog* errors_;
};

// An OperationOutcome response with one issue.
FhirResponse OutcomeResponse(int status, const std::string& code, const std::string& diagnostics,
                             const std::string& expression = "");

}  // namespace eds::ingest
