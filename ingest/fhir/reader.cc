#include "ingest/fhir/reader.h"

#include <utility>

#include "ingest/fhir/internal/issue_sink.h"
#include "ingest/fhir/internal/primitives.h"
#include "ingest/fhir/internal/read_common.h"
#include "ingest/fhir/internal/validator.h"

namespace eds::ingest::fhir {

using internal::IssueSink;
using internal::PathNode;

bool IsValidId(std::string_view id) { return internal::IsFhirId(id); }

Result<ParsedResource> ReadResource(std::string_view json, std::vector<Issue>* issues) {
  IssueSink sink(issues);
  internal::ThreadParsers& parsers = internal::LocalParsers();
  simdjson::dom::element root;
  if (!internal::Parse(json, &parsers, &sink, &root)) {
    return internal::RejectedStatus("FHIR resource", sink.error_count(), sink.first_error());
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    sink.Error("structure", "", "a FHIR resource must be a JSON object");
    return internal::RejectedStatus("FHIR resource", sink.error_count(), sink.first_error());
  }
  const PathNode unknown{nullptr, "Resource", -1};
  std::string_view type;
  if (!internal::CheckResourceType(obj, unknown, &sink, &type)) {
    return internal::RejectedStatus("FHIR resource", sink.error_count(), sink.first_error());
  }
  const PathNode path{nullptr, type, -1};
  ParsedResource out;
  internal::ProcessResource(obj, type, path, &sink, &out);
  if (sink.error_count() > 0) {
    return internal::RejectedStatus("FHIR resource", sink.error_count(), sink.first_error());
  }
  out.json = internal::Minify(std::string_view(parsers.padded.data(), parsers.length));
  return out;
}

}  // namespace eds::ingest::fhir
