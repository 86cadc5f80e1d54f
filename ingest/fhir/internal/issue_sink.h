// Collects the issues of one read, with element paths that are only turned into text when an
// issue is reported, so that a valid resource costs no string building. Not thread-safe: one
// sink per call. The vector passed in must outlive the sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/fhir/operation_outcome.h"

namespace eds::ingest::fhir::internal {

// One step of a FHIRPath, kept on the stack while the JSON tree is walked. The root's `name` is
// the whole prefix ("Observation", "Bundle.entry[3].resource", or "" for relative paths).
struct PathNode {
  const PathNode* parent = nullptr;
  std::string_view name;  // Element name; unused for array items.
  int64_t index = -1;     // >= 0 for an array item.
};

// "Bundle.entry[3].resource.component[0].code"; relative paths have no leading dot.
std::string RenderPath(const PathNode& node);
// RenderPath(parent) followed by ".child".
std::string RenderChild(const PathNode& parent, std::string_view child);

// 'name' in quotes, cut to 64 bytes: diagnostics may repeat a name from the input (an unknown
// element or resource type) but never a value, and never much of it.
std::string QuotedName(std::string_view name);

class IssueSink {
 public:
  explicit IssueSink(std::vector<Issue>* out) : out_(out) {}

  void Error(std::string_view code, std::string expression, std::string diagnostics);
  void Warning(std::string_view code, std::string expression, std::string diagnostics);
  size_t error_count() const { return errors_; }
  // "expression: diagnostics" of the first error, for Status messages and logs.
  const std::string& first_error() const { return first_error_; }

 private:
  std::vector<Issue>* out_;
  size_t errors_ = 0;
  std::string first_error_;
};

}  // namespace eds::ingest::fhir::internal
