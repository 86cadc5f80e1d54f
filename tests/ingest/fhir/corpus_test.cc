// The reader over real data: every official R4 example, every Synthea transaction Bundle (with
// MANIFEST.tsv counts), the bulk NDJSON export, and the parse throughput on them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include <time.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "ingest/fhir/reader.h"
#include "tests/ingest/fhir/fhir_test_data.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest::fhir {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

// CPU time of this thread, so that the throughput is per core even on a busy machine.
struct ThreadCpuClock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<ThreadCpuClock>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(
        duration(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
};
using Clock = ThreadCpuClock;

std::vector<std::filesystem::path> JsonFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Describe(const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& i : issues) {
    out += "  " + i.severity + " " + i.code + " " +
           (i.expression.empty() ? std::string("-") : i.expression[0]) + ": " + i.diagnostics +
           "\n";
  }
  return out;
}

std::string BundleType(const std::string& json) {
  const size_t at = json.find("\"type\"");
  if (at == std::string::npos) return {};
  const size_t open = json.find('"', json.find(':', at) + 1);
  return json.substr(open + 1, json.find('"', open + 1) - open - 1);
}

// The examples whose transaction holds entries this node refuses on purpose: DELETE and GET
// (not-supported), and the $lookup operation POSTed with a Parameters resource.
const std::set<std::string> kRefusedExamples = {"Bundle-bundle-transaction.json"};

void ReadExampleFile(const std::filesystem::path& file, size_t* resources) {
  const std::string json = eds::testing::ReadFileOrDie(file);
  std::vector<Issue> issues;
  const bool is_bundle = json.find("\"resourceType\": \"Bundle\"") != std::string::npos ||
                         json.find("\"resourceType\":\"Bundle\"") != std::string::npos;
  const std::string type = is_bundle ? BundleType(json) : "";
  if (type == "transaction" || type == "batch") {
    auto bundle = ReadBundle(json, &issues);
    if (kRefusedExamples.count(file.filename().string()) > 0) {
      EXPECT_THAT(bundle, StatusIs(StatusCode::kInvalidArgument));
      for (const Issue& i : issues) {
        if (i.severity == "error") {
          EXPECT_EQ(i.code, "not-supported") << Describe({i});
        }
      }
      // As a plain resource (a Bundle stored as it is) it is valid.
      EXPECT_THAT(ReadResource(json, nullptr), IsOk());
      return;
    }
    ASSERT_THAT(bundle, IsOk()) << file << "\n" << Describe(issues);
    for (const BundleEntry& e : bundle->entries) {
      // The batch example only holds GET entries, each refused on its own.
      if (type == "batch") {
        EXPECT_THAT(e.status, StatusIs(StatusCode::kInvalidArgument));
      } else {
        EXPECT_THAT(e.status, IsOk()) << Describe(e.issues);
      }
    }
    *resources += bundle->entries.size();
    return;
  }
  auto resource = ReadResource(json, &issues);
  ASSERT_THAT(resource, IsOk()) << file << "\n" << Describe(issues);
  EXPECT_FALSE(resource->json.empty());
  // The examples use only R4 elements: a warning would mean a gap in our element tables.
  EXPECT_THAT(issues, ::testing::IsEmpty()) << Describe(issues);
  ++*resources;
}

TEST(FhirCorpusTest, ReadsEveryOfficialR4Example) {
  std::filesystem::path dir = eds::testing::SharedTestData() / "fhir/examples/r4-spec";
  if (eds::testing::SharedTestData().empty()) {
    std::printf("shared test data absent: reading the committed examples in tests/data/fhir\n");
    dir = eds::testing::SourcePath("tests/data/fhir/r4-examples");
  }
  const auto files = JsonFiles(dir);
  ASSERT_FALSE(files.empty());
  size_t resources = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    ReadExampleFile(file, &resources);
  }
  std::printf("read %zu example files (%zu resources)\n", files.size(), resources);
}

TEST(FhirCorpusTest, ReadsCommittedSyntheaBundle) {
  const auto files = JsonFiles(eds::testing::SourcePath("tests/data/fhir/synthea"));
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    std::vector<Issue> issues;
    auto bundle = ReadBundle(eds::testing::ReadFileOrDie(file), &issues);
    ASSERT_THAT(bundle, IsOk()) << Describe(issues);
    EXPECT_EQ(bundle->type, BundleType::kTransaction);
    EXPECT_GT(bundle->entries.size(), 10u);
  }
}

struct Throughput {
  size_t resources = 0;
  size_t bytes = 0;
  Clock::duration time{};
  double PerSecond() const {
    return static_cast<double>(resources) / std::chrono::duration<double>(time).count();
  }
};

// Checks one Synthea Bundle against its manifest row.
void CheckSyntheaBundle(const std::string& name, const std::string& json,
                        const testing::ManifestRow& row, Throughput* t) {
  std::vector<Issue> issues;
  const auto start = Clock::now();
  auto bundle = ReadBundle(json, &issues);
  t->time += Clock::now() - start;
  ASSERT_THAT(bundle, IsOk()) << name << "\n" << Describe(issues);
  EXPECT_THAT(issues, ::testing::IsEmpty()) << name << "\n" << Describe(issues);
  EXPECT_EQ(json.size(), row.bytes) << name;
  EXPECT_EQ(bundle->type, BundleType::kTransaction);
  ASSERT_EQ(bundle->entries.size(), row.entries) << name;
  std::set<std::string> full_urls;
  std::map<std::string, size_t> counts;
  for (const BundleEntry& e : bundle->entries) {
    full_urls.insert(e.full_url);
    ++counts[e.resource.resource_type];
    EXPECT_EQ(e.method, HttpMethod::kPost);
  }
  size_t urn_refs = 0;
  for (const BundleEntry& e : bundle->entries) {
    for (const FoundReference& r : e.resource.references) {
      if (r.reference.rfind("urn:uuid:", 0) != 0) continue;
      ++urn_refs;
      EXPECT_EQ(full_urls.count(r.reference), 1u) << name << " " << r.path;
    }
  }
  // The hospital and practitioner Bundles hold only Organizations and Practitioners.
  if (row.counts.at("Encounter") > 0) {
    EXPECT_GT(urn_refs, 0u) << name;
  }
  for (const auto& [type, count] : row.counts)
    EXPECT_EQ(counts[type], count) << name << " " << type;
  t->resources += bundle->entries.size();
  t->bytes += json.size();
}

TEST(FhirCorpusTest, ReadsAllSyntheaTransactionBundles) {
  const auto shared = eds::testing::SharedTestData();
  if (shared.empty()) {
    std::cout << "shared test data absent: Synthea bundles not checked\n";
    return;
  }
  const auto base = shared / "fhir/synthea/generated-sample-data-r4";
  const auto manifest = testing::ReadManifest(base / "MANIFEST.tsv");
  ASSERT_EQ(manifest.size(), 402u);  // 400 patients, plus the hospital and practitioner files.
  Throughput t;
  size_t files = 0;
  const bool ok = testing::ForEachFileInTarZst(
      base / "bundles.tar.zst", [&](const std::string& path, const std::string& json) {
        const std::string name = std::filesystem::path(path).filename().string();
        auto row = manifest.find(name);
        ASSERT_NE(row, manifest.end()) << name;
        ++files;
        CheckSyntheaBundle(name, json, row->second, &t);
      });
  EXPECT_TRUE(ok);
  EXPECT_EQ(files, manifest.size());
  std::printf(
      "Synthea: %zu Bundles, %zu resources, %.1f MB: %.0f resources/s, %.0f MB/s per core\n", files,
      t.resources, static_cast<double>(t.bytes) / 1e6, t.PerSecond(),
      static_cast<double>(t.bytes) / 1e6 / std::chrono::duration<double>(t.time).count());
}

TEST(FhirCorpusTest, ReadsBulkNdjsonLineByLine) {
  const auto shared = eds::testing::SharedTestData();
  if (shared.empty()) {
    std::cout << "shared test data absent: bulk NDJSON not checked\n";
    return;
  }
  const auto dir = shared / "fhir/bulk/sample-bulk-10-patients";
  Throughput t;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    // log.ndjson is the export's own event log, not FHIR resources.
    if (!name.ends_with(".ndjson.zst") || name == "log.ndjson.zst") {
      continue;
    }
    const std::string type = name.substr(0, name.find('.'));
    const auto lines = testing::NonEmptyLines(testing::ReadZstdFile(e.path()));
    ASSERT_FALSE(lines.empty()) << name;
    ++files;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::vector<Issue> issues;
      const auto start = Clock::now();
      auto resource = ReadResource(lines[i], &issues);
      t.time += Clock::now() - start;
      ASSERT_THAT(resource, IsOk()) << name << " line " << i + 1 << "\n" << Describe(issues);
      EXPECT_THAT(issues, ::testing::IsEmpty()) << name << " line " << i + 1;
      EXPECT_EQ(resource->resource_type, type);
      ++t.resources;
      t.bytes += lines[i].size();
    }
  }
  EXPECT_EQ(files, 13u);
  std::printf("bulk NDJSON: %zu files, %zu resources: %.0f resources/s per core\n", files,
              t.resources, t.PerSecond());
}

}  // namespace
}  // namespace eds::ingest::fhir
