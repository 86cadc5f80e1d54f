// The engine over a real store: hand-made facts with known answers, and the default pack over
// the Synthea patient checked against counts taken from the bundle itself.
#include "aggregate/engine.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ingest/bulk_ingest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using ::eds::testing::TempDir;
using ingest::DayOf;
using ingest::Fact;
using ingest::FactType;

Fact PatientFact(ingest::Sex sex, const char* born, const char* died = nullptr) {
  Fact f;
  f.type = FactType::kPatient;
  f.sex = sex;
  f.day = DayOf(born);
  if (died != nullptr) {
    f.deceased = true;
    f.end_day = DayOf(died);
  }
  return f;
}

Fact Stay(const char* cls, const char* start, const char* end = nullptr) {
  Fact f;
  f.type = FactType::kEncounter;
  f.encounter_class = cls;
  f.day = DayOf(start);
  if (end != nullptr) f.end_day = DayOf(end);
  return f;
}

Fact Diagnosis(const char* icd10, const char* day) {
  Fact f;
  f.type = FactType::kCondition;
  f.codes = {{ingest::CodeSystem::kIcd10, "", icd10}};
  f.day = DayOf(day);
  return f;
}

class EngineTest : public ::testing::Test {
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
    ASSERT_TRUE(store_->Write(records, {"test", "write", "", ""}).ok());
  }

  MeasurePack Pack(const std::string& measures_json) {
    auto pack = ParseMeasurePack(R"({"pack":"t","version":"1","title":"t","measures":)" +
                                 measures_json + "}");
    EXPECT_TRUE(pack.ok()) << pack.status().ToString();
    return pack.ok() ? *pack : MeasurePack{};
  }

  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  int next_ = 0;
};

TEST_F(EngineTest, PatientsAndEventsAreCountedPerCellWithinTheWindow) {
  using ingest::Sex;
  Put("p1", {PatientFact(Sex::kFemale, "1950-06-15"), Diagnosis("E119", "2025-01-10"),
             Diagnosis("E110", "2025-01-20"), Stay("IMP", "2025-01-09", "2025-01-12"),
             Stay("IMP", "2025-01-25", "2025-01-27")});
  Put("p2", {PatientFact(Sex::kMale, "2010-03-15"), Diagnosis("E101", "2025-01-03"),
             Stay("EMER", "2025-01-03")});
  Put("p3", {PatientFact(Sex::kMale, "1980-01-15"), Diagnosis("E119", "2024-12-31"),
             Diagnosis("I10", "2025-01-05")});
  Put("p4", {Diagnosis("E14", "2025-01-31")});  // no Patient fact: sex and age unknown
  const std::vector<MeasurePack> packs = {Pack(R"([
    {"url":"urn:m:diabetes","version":"1","title":"d","count":"patients","age_bands":[0,18,65],
     "population":{"resource":"Condition","codes":[{"system":"cim-10","prefixes":["E10","E11","E14"]}]},
     "stratifiers":[{"id":"sex","components":["sex"]},{"id":"age","components":["age-band"]}]},
    {"url":"urn:m:diagnoses","version":"1","title":"e","count":"events",
     "population":{"resource":"Condition","codes":[{"system":"icd-10","prefixes":["E"]}]},
     "stratifiers":[{"id":"week","components":["iso-week"]}]},
    {"url":"urn:m:stays","version":"1","title":"s","count":"events",
     "population":{"resource":"Encounter","encounter_class":["IMP"]},
     "stratifiers":[{"id":"cls-sex","components":["encounter-class","sex"]}]}])")};
  const Period jan = ParsePeriod("2025-01").value();
  EngineStats stats;
  auto r = ComputeMeasures(*store_, packs, jan, {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(stats.patients_scanned, 4u);

  const MeasureCounts& diabetes = (*r)[0];
  EXPECT_EQ(diabetes.population, 3u);  // p1 (twice, once counted), p2, p4; p3 is December
  using Cells = std::map<std::vector<std::string>, uint64_t>;
  EXPECT_EQ(diabetes.stratifiers[0].cells,
            (Cells{{{"female"}, 1}, {{"male"}, 1}, {{"unknown"}, 1}}));
  EXPECT_EQ(diabetes.stratifiers[1].cells, (Cells{{{"65+"}, 1}, {{"0-17"}, 1}, {{"unknown"}, 1}}));

  const MeasureCounts& diagnoses = (*r)[1];
  EXPECT_EQ(diagnoses.population, 4u);  // E119, E110, E101, E14 in January
  EXPECT_EQ(diagnoses.stratifiers[0].cells,
            (Cells{{{"2025-W01"}, 1}, {{"2025-W02"}, 1}, {{"2025-W04"}, 1}, {{"2025-W05"}, 1}}));

  const MeasureCounts& stays = (*r)[2];
  EXPECT_EQ(stays.population, 2u);
  EXPECT_EQ(stays.stratifiers[0].cells, (Cells{{{"IMP", "female"}, 2}}));

  // An objecting patient is in no count.
  const uint64_t p1 = store_->PatientNumber("p1").value();
  auto without = ComputeMeasures(*store_, packs, jan, {p1}, &stats);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(stats.patients_excluded, 1u);
  EXPECT_EQ((*without)[0].population, 2u);
  EXPECT_EQ((*without)[1].population, 2u);
  EXPECT_EQ((*without)[2].population, 0u);
  EXPECT_TRUE((*without)[2].stratifiers[0].cells.empty());
}

TEST_F(EngineTest, DeathsCountInHospitalOnlyDuringAStayOfTheClass) {
  using ingest::Sex;
  Put("a", {PatientFact(Sex::kFemale, "1940-01-15", "2025-03-10"),
            Stay("IMP", "2025-03-01", "2025-03-10")});
  Put("b", {PatientFact(Sex::kMale, "1940-01-15", "2025-03-12"),
            Stay("IMP", "2025-03-01", "2025-03-05")});  // died at home
  Put("c", {PatientFact(Sex::kMale, "1940-01-15", "2025-03-20"), Stay("EMER", "2025-03-20")});
  Put("d", {PatientFact(Sex::kMale, "1940-01-15", "2025-04-02")});  // another month
  const std::vector<MeasurePack> packs = {Pack(R"([
    {"url":"urn:m:ih","version":"1","title":"d","count":"patients",
     "population":{"resource":"Patient","deaths":true,"death_in_class":["IMP","EMER"]},
     "stratifiers":[{"id":"cls","components":["encounter-class"]}]},
    {"url":"urn:m:all","version":"1","title":"d","count":"patients",
     "population":{"resource":"Patient","deaths":true},
     "stratifiers":[{"id":"sex","components":["sex"]}]}])")};
  auto r = ComputeMeasures(*store_, packs, ParsePeriod("2025-03").value(), {});
  ASSERT_TRUE(r.ok());
  using Cells = std::map<std::vector<std::string>, uint64_t>;
  EXPECT_EQ((*r)[0].population, 2u);
  EXPECT_EQ((*r)[0].stratifiers[0].cells, (Cells{{{"IMP"}, 1}, {{"EMER"}, 1}}));
  EXPECT_EQ((*r)[1].population, 3u);
  EXPECT_EQ((*r)[1].stratifiers[0].cells, (Cells{{{"female"}, 1}, {{"male"}, 2}}));
}

TEST_F(EngineTest, TheDefaultPackCountsTheSyntheaPatientLikeItsBundle) {
  // The committed Synthea bundle as bulk NDJSON.
  const auto bundle = nlohmann::json::parse(ReadFileOrDie(SourcePath(
      "tests/data/fhir/synthea/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json")));
  std::string ndjson;
  std::map<std::string, int> ambulatory_by_month;
  for (const auto& e : bundle["entry"]) {
    std::string line = e["resource"].dump();
    for (size_t pos = line.find("urn:uuid:"); pos != std::string::npos;
         pos = line.find("urn:uuid:", pos)) {
      line.replace(pos, 9, "Patient/");  // only the patient is referenced in what counts
    }
    ndjson += line + "\n";
    const auto& r = e["resource"];
    if (r["resourceType"] == "Encounter" && r["class"]["code"] == "AMB") {
      ++ambulatory_by_month[r["period"]["start"].get<std::string>().substr(0, 7)];
    }
  }
  ASSERT_FALSE(ambulatory_by_month.empty());
  auto secret = store_->Secret("pseudonym");
  ASSERT_TRUE(secret.ok());
  ingest::Pseudonymizer pseudonymizer(std::move(*secret));
  ingest::BulkIngest bulk(*store_, pseudonymizer);
  ASSERT_TRUE(bulk.IngestChunk(ndjson, {"synthea"}, "test").ok());

  auto pack = LoadMeasurePack(SourcePath("packs/eds-default.json").string());
  ASSERT_TRUE(pack.ok());
  const std::vector<MeasurePack> packs = {*pack};
  for (const auto& [month, visits] : ambulatory_by_month) {
    auto r = ComputeMeasures(*store_, packs, ParsePeriod(month).value(), {});
    ASSERT_TRUE(r.ok());
    size_t checked = 0;
    for (const auto& m : *r) {
      if (m.measure->url != "https://eds-node.fr/fhir/Measure/ambulatory-visits") continue;
      ++checked;
      EXPECT_EQ(m.population, static_cast<uint64_t>(visits)) << month;
      EXPECT_EQ(m.stratifiers[1].cells.at({"male"}), static_cast<uint64_t>(visits)) << month;
    }
    EXPECT_EQ(checked, 1u);
  }
}

}  // namespace
}  // namespace eds::aggregate
