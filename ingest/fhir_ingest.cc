#include "ingest/fhir_ingest.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "ingest/fhir/resource_types.h"
#include "ingest/hl7_ingest.h"

namespace eds::ingest {

using nlohmann::json;

namespace {

std::vector<Identifier> ToIdentifiers(const fhir::ParsedResource& r) {
  std::vector<Identifier> ids;
  for (const auto& i : r.identifiers) ids.push_back({i.system, i.value, ""});
  return ids;
}

}  // namespace

FhirResponse OutcomeResponse(int status, const std::string& code, const std::string& diagnostics,
                             const std::string& expression) {
  return {status, fhir::OperationOutcomeJson({fhir::ErrorIssue(code, expression, diagnostics)}),
          ""};
}

FhirIngest::FhirIngest(storage::Store& store, const Pseudonymizer& pseudonymizer,
                       std::string base_url)
    : store_(store), pseudonymizer_(pseudonymizer), base_url_(std::move(base_url)) {}

std::string FhirIngest::PatientPseudonym(const fhir::ParsedResource& patient,
                                         const std::string& id) {
  const std::vector<Identifier> ids = ToIdentifiers(patient);
  if (auto known = KnownPseudonym(store_, ids)) return *known;
  if (auto known = store_.ResolveAlias("Patient/" + id); known.ok() && known->has_value()) {
    return **known;
  }
  if (auto primary = Pseudonymizer::PrimaryIndex(ids))
    return pseudonymizer_.Pseudonym(ids[*primary]);
  return pseudonymizer_.Pseudonym({"urn:eds:fhir:Patient", id, ""});
}

std::string FhirIngest::ReferencedPseudonym(const std::string& reference) {
  if (reference.rfind("Patient/", 0) != 0) return "";
  auto known = store_.ResolveAlias(reference);
  if (known.ok() && known->has_value()) return **known;
  // A patient the box has not seen yet: its logical id names it until its identifiers come.
  return pseudonymizer_.Pseudonym({"urn:eds:fhir:Patient", reference.substr(8), ""});
}

FhirResponse FhirIngest::Handle(const std::string& method, const std::string& path,
                                const std::string& body, const std::string& actor) {
  std::vector<std::string> parts;
  for (size_t pos = 1; pos <= path.size();) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (parts.empty()) {
    if (method == "POST") return PostBundle(body, actor);
    return OutcomeResponse(405, "not-supported", "only POST of a batch or transaction Bundle here");
  }
  if (parts.size() == 1 && parts[0] == "metadata") {
    if (method != "GET") return OutcomeResponse(405, "not-supported", "metadata is read-only");
    return {200, CapabilityStatement(), ""};
  }
  if (!fhir::IsR4ResourceType(parts[0])) {
    return OutcomeResponse(404, "not-supported", "unknown resource type '" + parts[0] + "'");
  }
  if (parts.size() == 1 && method == "POST") return WriteOne(parts[0], "", body, actor);
  if (parts.size() == 2 && method == "PUT") return WriteOne(parts[0], parts[1], body, actor);
  if (parts.size() == 2 && method == "GET") return Read(parts[0], parts[1], actor);
  return OutcomeResponse(405, "not-supported", method + " " + path + " is not supported");
}

FhirResponse FhirIngest::Read(const std::string& type, const std::string& id,
                              const std::string& actor) {
  std::string patient;
  if (type == "Patient") {
    auto known = store_.ResolveAlias("Patient/" + id);
    if (known.ok() && known->has_value()) patient = **known;
  } else {
    // Other resources are filed under their patient, which a read by id does not know:
    // the lookup alias records it at write time.
    auto known = store_.ResolveAlias("owner:" + type + "/" + id);
    if (known.ok() && known->has_value()) patient = **known;
  }
  auto r = store_.Read(patient, type + "/" + id, {actor, "record.read", type, ""});
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return OutcomeResponse(404, "not-found", type + "/" + id + " is not known");
    }
    return OutcomeResponse(500, "exception", "the record could not be read");
  }
  return {200, *r, ""};
}

}  // namespace eds::ingest
