#include "tests/testing/fhir_corpus.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/testing/temp_dir.h"

namespace eds::testing {
namespace {

std::vector<std::filesystem::path> JsonFilesUnder(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::string> FhirResourcesOfFile(const std::filesystem::path& file) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(ReadFileOrDie(file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return out;
  if (j.value("resourceType", "") == "Bundle" && j.contains("entry")) {
    for (const auto& e : j["entry"]) {
      if (e.contains("resource")) out.push_back(e["resource"].dump());
    }
  }
  out.push_back(j.dump());
  return out;
}

std::vector<std::string> CommittedFhirResources() {
  std::vector<std::string> out;
  for (const auto& f : JsonFilesUnder(SourcePath("tests/data/fhir"))) {
    auto r = FhirResourcesOfFile(f);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

std::vector<std::string> SharedFhirResources() {
  std::vector<std::string> out;
  const auto root = SharedTestData();
  if (root.empty()) return out;
  for (const char* sub :
       {"fhir/examples/r4-spec", "fhir/synthea/generated-sample-data-r4/sample"}) {
    for (const auto& f : JsonFilesUnder(root / sub)) {
      auto r = FhirResourcesOfFile(f);
      out.insert(out.end(), r.begin(), r.end());
    }
  }
  return out;
}

}  // namespace eds::testing
