#include "ingest/fhir_ingest.h"

#include <strings.h>

#include <map>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "ingest/fhir/resource_types.h"
#include "ingest/hl7_ingest.h"

namespace eds::ingest {

using nlohmann::json;

namespace {

// Whether a Content-Type is FHIR JSON, its parameters (charset) aside; an absent one is taken as
// JSON.
bool IsFhirJson(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  auto is = [&](std::string_view type) {
    return media.size() == type.size() && strncasecmp(media.data(), type.data(), type.size()) == 0;
  };
  return media.empty() || is("application/fhir+json") || is("application/json") ||
         is("application/json+fhir");
}

}  // namespace

FhirResponse OutcomeResponse(int status, const std::string& code, const std::string& diagnostics,
                             const std::string& expression) {
  return {status, fhir::OperationOutcomeJson({fhir::ErrorIssue(code, expression, diagnostics)}),
          ""};
}

FhirIngest::FhirIngest(storage::Store& store, const Pseudonymizer& pseudonymizer,
                       std::string base_url, IngestErrorLog* errors)
    : store_(store),
      pseudonymizer_(pseudonymizer),
      base_url_(std::move(base_url)),
      errors_(errors) {}

void FhirIngest::NoteIssues(const std::vector<fhir::Issue>& issues, int status,
                            const std::string& actor) const {
  if (errors_ == nullptr) return;
  // A bundle of many bad entries should not push every other feed's errors out of the log.
  size_t noted = 0;
  for (const fhir::Issue& issue : issues) {
    if (issue.severity != "error" && issue.severity != "fatal") continue;
    if (++noted > 5) break;
    std::string reason = issue.code + ": " + issue.diagnostics;
    for (size_t i = 0; i < issue.expression.size(); ++i) {
      reason += (i == 0 ? " at " : ", ") + issue.expression[i];
    }
    errors_->Add({0, "fhir", actor, std::to_string(status), std::move(reason)});
  }
}

FhirResponse FhirIngest::Handle(const std::string& method, const std::string& path,
                                const std::string& body, std::string_view content_type,
                                const std::string& actor) {
  // As other FHIR servers do, a body in another format (XML, a form) is refused by its type,
  // not parsed as JSON and refused for its first character.
  FhirResponse response =
      body.empty() || IsFhirJson(content_type)
          ? Route(method, path, body, actor)
          : OutcomeResponse(415, "not-supported",
                            "this server reads FHIR JSON: send Content-Type application/fhir+json");
  if (errors_ != nullptr && method != "GET" && response.status >= 400 && response.status < 500) {
    // The answer's OperationOutcome is the one place every refusal's issues end up.
    const json outcome = json::parse(response.body, nullptr, false);
    std::vector<fhir::Issue> issues;
    if (outcome.is_object() && outcome.contains("issue") && outcome["issue"].is_array()) {
      for (const json& i : outcome["issue"]) {
        if (!i.is_object()) continue;
        fhir::Issue issue{
            i.value("severity", ""), i.value("code", ""), i.value("diagnostics", ""), {}};
        if (i.contains("expression") && i["expression"].is_array()) {
          for (const json& e : i["expression"]) {
            if (e.is_string()) issue.expression.push_back(e.get<std::string>());
          }
        }
        issues.push_back(std::move(issue));
      }
    }
    NoteIssues(issues, response.status, actor);
  }
  return response;
}

FhirResponse FhirIngest::Route(const std::string& method, const std::string& path,
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
  auto r = store_.ReadAny(type + "/" + id, {actor, "record.read", type, ""});
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return OutcomeResponse(404, "not-found", type + "/" + id + " is not known");
    }
    return OutcomeResponse(500, "exception", "the record could not be read");
  }
  return {200, *r, ""};
}

}  // namespace eds::ingest
