// FhirIngest: the write paths (Bundle, create, update) and the CapabilityStatement.
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "ingest/fhir_ingest.h"
#include "ingest/resource_filing.h"

namespace eds::ingest {

using nlohmann::json;

namespace {

std::string RandomHexId() {
  const storage::KeyBytes b = storage::KeyBytes::Random();
  return HexEncode(std::string_view(reinterpret_cast<const char*>(b.data()), 16));
}

void ReplaceString(std::string& text, const std::string& from, const std::string& to) {
  const std::string quoted = "\"" + from + "\"";
  const std::string replacement = "\"" + to + "\"";
  for (size_t pos = text.find(quoted); pos != std::string::npos;
       pos = text.find(quoted, pos + replacement.size())) {
    text.replace(pos, quoted.size(), replacement);
  }
}

std::string SetId(const std::string& text, const std::string& id) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return text;
  j["id"] = id;
  return j.dump();
}

int StatusForIssues(const std::vector<fhir::Issue>& issues) {
  for (const auto& i : issues) {
    if (i.severity == "error" && (i.code == "structure" || i.code == "not-supported")) return 400;
  }
  return 422;
}

}  // namespace

FhirResponse FhirIngest::PostBundle(const std::string& body, const std::string& actor) {
  std::vector<fhir::Issue> issues;
  auto bundle = fhir::ReadBundle(body, &issues);
  if (!bundle.ok()) {
    return {StatusForIssues(issues), fhir::OperationOutcomeJson(issues), ""};
  }
  const bool transaction = bundle->type == fhir::BundleType::kTransaction;
  // Server-assigned ids: the urn:uuid of a POST entry becomes its id, so references follow.
  std::map<std::string, std::string> full_url_to_ref;
  std::vector<std::string> ids(bundle->entries.size());
  for (auto& e : bundle->entries) {
    if (!e.status.ok()) continue;
    std::string id = e.resource.id;
    if (e.method == fhir::HttpMethod::kPut) {
      const size_t slash = e.url.find('/');
      if (slash != std::string::npos) id = e.url.substr(slash + 1);
    } else if (e.full_url.rfind("urn:uuid:", 0) == 0) {
      id = e.full_url.substr(9);
    } else {
      id = RandomHexId();
    }
    ids[e.index] = id;
    if (!e.full_url.empty()) full_url_to_ref[e.full_url] = e.resource.resource_type + "/" + id;
  }
  // Entries that name one resource: a transaction fails (FHIR: its identities may not overlap);
  // a batch is processed in order, and the store keeps the last version.
  if (transaction) {
    std::map<std::string, size_t> first_of;  // "Type/id" -> its first entry
    for (const auto& e : bundle->entries) {
      if (!e.status.ok()) continue;
      const std::string ref = e.resource.resource_type + "/" + ids[e.index];
      const auto [at, fresh] = first_of.emplace(ref, e.index);
      if (!fresh) {
        return OutcomeResponse(400, "invalid",
                               ref + " is also named by entry " + std::to_string(at->second) +
                                   "; a transaction names each resource once",
                               "Bundle.entry[" + std::to_string(e.index) + "]");
      }
    }
  }
  auto stored_text = [&](const fhir::BundleEntry& e) {
    const std::string& id = ids[e.index];
    std::string text = e.resource.id == id ? e.resource.json : SetId(e.resource.json, id);
    for (const auto& r : e.resource.references) {
      if (auto it = full_url_to_ref.find(r.reference); it != full_url_to_ref.end()) {
        ReplaceString(text, r.reference, it->second);
      }
    }
    return text;
  };
  // Patients first: everything else is filed under the patient it references.
  FilingBatch batch(store_, pseudonymizer_);
  std::vector<size_t> record_of(bundle->entries.size());  // entry -> its record in the batch
  for (auto& e : bundle->entries) {
    if (!e.status.ok() || e.resource.resource_type != "Patient") continue;
    batch.AddPatient(e.resource, ids[e.index], stored_text(e));
    record_of[e.index] = batch.records().size() - 1;
  }
  for (auto& e : bundle->entries) {
    if (!e.status.ok() || e.resource.resource_type == "Patient") continue;
    std::string subject = e.resource.subject_reference;
    if (auto it = full_url_to_ref.find(subject); it != full_url_to_ref.end()) {
      subject = it->second;
    }
    batch.Add(e.resource, ids[e.index], subject, stored_text(e));
    record_of[e.index] = batch.records().size() - 1;
  }
  std::vector<bool> stored_before;
  if (!batch.empty()) {
    const Status s =
        store_.Write(batch.records(),
                     {actor, "record.write", std::to_string(batch.records().size()) + " records",
                      transaction ? "FHIR transaction" : "FHIR batch"},
                     batch.aliases(), {}, &stored_before);
    if (!s.ok()) {
      return OutcomeResponse(500, "exception", "not stored; send the Bundle again later");
    }
  }
  // An update answers 201 when it creates the resource, 200 when it replaces one: stored
  // before, or put earlier in this Bundle.
  std::set<std::string> put;
  json response_entries = json::array();
  for (const auto& e : bundle->entries) {
    if (!e.status.ok()) {
      NoteIssues(e.issues, 400, actor);
      response_entries.push_back(
          {{"response",
            {{"status", "400 Bad Request"},
             {"outcome", json::parse(fhir::OperationOutcomeJson(e.issues))}}}});
      continue;
    }
    const std::string ref = e.resource.resource_type + "/" + ids[e.index];
    const bool replaces = e.method == fhir::HttpMethod::kPut &&
                          (!put.insert(ref).second || stored_before[record_of[e.index]]);
    response_entries.push_back(
        {{"response",
          {{"status", replaces ? "200 OK" : "201 Created"}, {"location", ref + "/_history/1"}}}});
  }
  json out = {{"resourceType", "Bundle"},
              {"type", transaction ? "transaction-response" : "batch-response"},
              {"entry", response_entries}};
  return {200, out.dump(), ""};
}

FhirResponse FhirIngest::WriteOne(const std::string& type, const std::string& url_id,
                                  const std::string& body, const std::string& actor) {
  std::vector<fhir::Issue> issues;
  auto resource = fhir::ReadResource(body, &issues);
  if (!resource.ok()) return {StatusForIssues(issues), fhir::OperationOutcomeJson(issues), ""};
  if (resource->resource_type != type) {
    return OutcomeResponse(400, "invalid",
                           "the body is a " + resource->resource_type + ", the URL names " + type,
                           resource->resource_type + ".resourceType");
  }
  if (!url_id.empty() && resource->id != url_id) {
    return OutcomeResponse(400, "invalid", "Resource.id must equal the id in the URL",
                           type + ".id");
  }
  const std::string id = url_id.empty() ? RandomHexId() : url_id;
  std::string text = resource->id == id ? resource->json : SetId(resource->json, id);
  FilingBatch batch(store_, pseudonymizer_);
  if (type == "Patient") {
    batch.AddPatient(*resource, id, text);
  } else {
    batch.Add(*resource, id, resource->subject_reference, text);
  }
  std::vector<bool> stored_before;
  const Status s =
      store_.Write(batch.records(), {actor, "record.write", "1 record", "FHIR " + type},
                   batch.aliases(), {}, &stored_before);
  if (!s.ok()) return OutcomeResponse(500, "exception", "not stored; send it again later");
  // An update that creates answers 201 (a create always does).
  const bool replaces = !url_id.empty() && stored_before.back();
  return {replaces ? 200 : 201, text, base_url_ + "/" + type + "/" + id + "/_history/1"};
}

std::string FhirIngest::CapabilityStatement() const {
  static const char* kUnderstood[] = {"Patient",
                                      "Encounter",
                                      "Condition",
                                      "Observation",
                                      "Procedure",
                                      "MedicationRequest",
                                      "MedicationAdministration",
                                      "DiagnosticReport",
                                      "Immunization",
                                      "AllergyIntolerance"};
  json resources = json::array();
  for (const char* type : kUnderstood) {
    resources.push_back(
        {{"type", type},
         {"interaction", {{{"code", "read"}}, {{"code", "create"}}, {{"code", "update"}}}},
         {"documentation", "validated (required elements, types) and analysed"}});
  }
  json cs = {
      {"resourceType", "CapabilityStatement"},
      {"status", "active"},
      {"date", "2026-11-28"},
      {"kind", "instance"},
      {"software", {{"name", "eds-node"}}},
      {"implementation", {{"description", "eds-node FHIR ingest"}, {"url", base_url_}}},
      {"fhirVersion", "4.0.1"},
      {"format", {"application/fhir+json", "json"}},
      {"rest",
       {{{"mode", "server"},
         {"documentation",
          "Other R4 resource types are accepted in Bundles and by create/update and stored "
          "encrypted as they are."},
         {"security", {{"description", "Bearer tokens issued on the box (edsctl token create)."}}},
         {"resource", resources},
         {"interaction", {{{"code", "transaction"}}, {{"code", "batch"}}}}}}}};
  return cs.dump();
}

}  // namespace eds::ingest
