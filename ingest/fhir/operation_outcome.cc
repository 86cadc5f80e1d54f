#include "ingest/fhir/operation_outcome.h"

#include "common/utf8.h"

#include <cstdint>
#include <utility>

namespace eds::ingest::fhir {
namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
      ++i;
    } else {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD keeps the document valid UTF-8.
        ++i;
      } else {
        out->append(s.substr(i, len));
        i += len;
      }
    }
  }
  out->push_back('"');
}

void AppendIssue(const Issue& issue, std::string* out) {
  out->append("{\"severity\":");
  AppendJsonString(issue.severity, out);
  out->append(",\"code\":");
  AppendJsonString(issue.code, out);
  if (!issue.diagnostics.empty()) {
    out->append(",\"diagnostics\":");
    AppendJsonString(issue.diagnostics, out);
  }
  // FHIR JSON forbids empty arrays, so the element is left out when there is no expression.
  if (!issue.expression.empty()) {
    out->append(",\"expression\":[");
    for (size_t i = 0; i < issue.expression.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(issue.expression[i], out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

}  // namespace

Issue ErrorIssue(std::string code, std::string expression, std::string diagnostics) {
  Issue issue{"error", std::move(code), std::move(diagnostics), {}};
  if (!expression.empty()) issue.expression.push_back(std::move(expression));
  return issue;
}

Issue WarningIssue(std::string code, std::string expression, std::string diagnostics) {
  Issue issue{"warning", std::move(code), std::move(diagnostics), {}};
  if (!expression.empty()) issue.expression.push_back(std::move(expression));
  return issue;
}

bool HasError(const std::vector<Issue>& issues) {
  for (const Issue& issue : issues) {
    if (issue.severity == "error" || issue.severity == "fatal") return true;
  }
  return false;
}

std::string OperationOutcomeJson(const std::vector<Issue>& issues) {
  std::string out = "{\"resourceType\":\"OperationOutcome\",\"issue\":[";
  if (issues.empty()) {
    AppendIssue(Issue{"information", "informational", "no issues found", {}}, &out);
  }
  for (size_t i = 0; i < issues.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendIssue(issues[i], &out);
  }
  out.append("]}");
  return out;
}

}  // namespace eds::ingest::fhir
