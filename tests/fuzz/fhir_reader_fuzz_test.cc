// libFuzzer target for the FHIR reader (ingest/fhir/reader.h). Beyond "no crash, no sanitizer
// report", it checks the reader's promises on every input:
//   - a result is OK exactly when no error issue was reported;
//   - the stored text of an accepted resource reads back to the same resource, and is already
//     minimal (reading it again gives the same bytes);
//   - the OperationOutcome of the issues is itself a valid resource.
// The same file, linked with corpus_main.cc, replays the seed corpus on normal builds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/fhir/operation_outcome.h"
#include "ingest/fhir/reader.h"

namespace {

using eds::ingest::fhir::HasError;
using eds::ingest::fhir::Issue;
using eds::ingest::fhir::ParsedResource;

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fhir reader invariant broken: %s\n", what);
    std::abort();
  }
}

void CheckStoredText(const ParsedResource& resource) {
  std::vector<Issue> issues;
  auto again = eds::ingest::fhir::ReadResource(resource.json, &issues);
  Require(again.ok(), "stored text of an accepted resource is refused");
  Require(again->json == resource.json, "stored text is not minimal");
  Require(again->resource_type == resource.resource_type, "resourceType changed");
  Require(again->id == resource.id, "id changed");
  Require(again->references.size() == resource.references.size(), "references changed");
  Require(again->codes.size() == resource.codes.size(), "codes changed");
}

void CheckOutcome(const std::vector<Issue>& issues) {
  auto outcome =
      eds::ingest::fhir::ReadResource(eds::ingest::fhir::OperationOutcomeJson(issues), nullptr);
  Require(outcome.ok(), "OperationOutcome is not a valid resource");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::vector<Issue> issues;
  auto resource = eds::ingest::fhir::ReadResource(input, &issues);
  Require(resource.ok() != HasError(issues), "ReadResource status disagrees with its issues");
  if (resource.ok()) CheckStoredText(*resource);
  CheckOutcome(issues);

  issues.clear();
  auto bundle = eds::ingest::fhir::ReadBundle(input, &issues);
  Require(bundle.ok() || HasError(issues), "ReadBundle failed without an error issue");
  if (bundle.ok()) {
    for (const auto& entry : bundle->entries) {
      Require(entry.status.ok() != HasError(entry.issues), "entry status disagrees with issues");
      if (entry.status.ok()) CheckStoredText(entry.resource);
    }
  }
  CheckOutcome(issues);
  return 0;
}
