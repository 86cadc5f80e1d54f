// FHIR R4 OperationOutcome: the problems found in FHIR input, and their JSON form for HTTP
// answers (400/422 bodies, batch-response entries) and import reports.
// Plain values; the functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eds::ingest::fhir {

// One OperationOutcome.issue.
struct Issue {
  // IssueSeverity: "fatal", "error", "warning" or "information".
  std::string severity;
  // IssueType code: "structure", "required", "value", "invariant", "not-found", "not-supported",
  // "security", "processing", "conflict", "too-long", ...
  std::string code;
  // Human-readable detail. The reader never copies values from the input here (a birth date
  // or a name would leak into logs and reports), only element or type names, cut short.
  std::string diagnostics;
  // FHIRPath of the offending element, e.g. "Bundle.entry[2].resource.subject.reference".
  // Empty when the problem has no element (malformed JSON).
  std::vector<std::string> expression;
};

// Builders for the two severities the reader produces.
Issue ErrorIssue(std::string code, std::string expression, std::string diagnostics);
Issue WarningIssue(std::string code, std::string expression, std::string diagnostics);

// True when one of `issues` has severity "error" or "fatal".
bool HasError(const std::vector<Issue>& issues);

// A FHIR R4 OperationOutcome resource as compact JSON. OperationOutcome.issue is 1..*, so an
// empty `issues` gives a single "information"/"informational" issue saying that all is well.
// Strings are escaped as JSON requires; bytes that are not valid UTF-8 become U+FFFD.
std::string OperationOutcomeJson(const std::vector<Issue>& issues);

}  // namespace eds::ingest::fhir
