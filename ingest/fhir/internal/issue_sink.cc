#include "ingest/fhir/internal/issue_sink.h"

#include <utility>

namespace eds::ingest::fhir::internal {
namespace {

void Render(const PathNode& node, std::string* out) {
  if (node.parent == nullptr) {
    out->append(node.name);
    return;
  }
  Render(*node.parent, out);
  if (node.index >= 0) {
    out->push_back('[');
    out->append(std::to_string(node.index));
    out->push_back(']');
  } else {
    if (!out->empty()) out->push_back('.');
    out->append(node.name);
  }
}

}  // namespace

std::string RenderPath(const PathNode& node) {
  std::string out;
  Render(node, &out);
  return out;
}

std::string RenderChild(const PathNode& parent, std::string_view child) {
  std::string out = RenderPath(parent);
  if (!out.empty()) out.push_back('.');
  out.append(child);
  return out;
}

std::string QuotedName(std::string_view name) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  if (name.size() <= kMax) {
    out.append(name);
  } else {
    size_t cut = kMax;
    // Do not split a UTF-8 sequence: back off to the start of the character.
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    out.append(name.substr(0, cut));
    out.append("...");
  }
  out.push_back('\'');
  return out;
}

void IssueSink::Error(std::string_view code, std::string expression, std::string diagnostics) {
  if (errors_++ == 0)
    first_error_ = expression.empty() ? diagnostics : expression + ": " + diagnostics;
  if (out_ != nullptr) {
    out_->push_back(ErrorIssue(std::string(code), std::move(expression), std::move(diagnostics)));
  }
}

void IssueSink::Warning(std::string_view code, std::string expression, std::string diagnostics) {
  if (out_ != nullptr) {
    out_->push_back(WarningIssue(std::string(code), std::move(expression), std::move(diagnostics)));
  }
}

}  // namespace eds::ingest::fhir::internal
