// The engine over a FactIndex kept current by the store gives, after every kind of change, the
// very counts of an index loaded afresh from the store (the path a new daemon takes), and the
// hand-known counts of a small case.
#include "aggregate/fact_index.h"

#include <gtest/gtest.h>

#include <random>

#include "aggregate/engine.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::IsOk;
using ingest::CodeSystem;
using ingest::Fact;
using ingest::FactType;
using ingest::Sex;

constexpr int32_t kJan2025 = 20089;  // 2025-01-01

// Facts of every kind the pack below looks at, drawn from `rng`.
std::vector<Fact> RandomFacts(std::mt19937& rng, bool with_patient) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<Fact> facts;
  if (with_patient) {
    Fact p;
    p.type = FactType::kPatient;
    p.sex = static_cast<Sex>(pick(4));
    p.day = kJan2025 - 365 * (1 + pick(90));
    if (pick(4) == 0) p.end_day = kJan2025 + pick(60);
    facts.push_back(p);
  }
  const int n = 1 + pick(3);
  for (int i = 0; i < n; ++i) {
    Fact f;
    f.day = kJan2025 - 20 + pick(80);
    switch (pick(3)) {
      case 0:
        f.type = FactType::kEncounter;
        f.encounter_class = std::vector<std::string>{"IMP", "AMB", "EMER", ""}[pick(4)];
        f.care_unit = "Location/" + std::to_string(pick(3));
        if (pick(2) == 0) f.end_day = f.day + pick(5);
        break;
      case 1:
        f.type = FactType::kCondition;
        f.codes = {{CodeSystem::kIcd10, "",
                    std::vector<std::string>{"E119", "E101", "I10", "J45"}[pick(4)]}};
        if (pick(3) == 0) f.codes.push_back({CodeSystem::kSnomed, "", "44054006"});
        break;
      default:
        f.type = FactType::kObservation;
        f.codes = {{CodeSystem::kLoinc, "", pick(2) == 0 ? "94500-6" : "8302-2"}};
        f.value_codes = {{CodeSystem::kSnomed, "", pick(2) == 0 ? "260373001" : "260415000"}};
        break;
    }
    if (pick(3) == 0) f.age_months = pick(1000);
    if (pick(4) == 0) f.sex = Sex::kFemale;
    facts.push_back(f);
  }
  return facts;
}

class FactIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions o;
    o.data_dir = dir_.Sub("data");
    store_ = std::move(storage::Store::Open(o, storage::SecretKey::Random()).value());
    auto pack = ParseMeasurePack(R"({"pack":"t","version":"1","title":"t","measures":[
      {"url":"urn:m:diabetes","version":"1","title":"d","count":"patients","age_bands":[0,18,65],
       "population":{"resource":"Condition","start_offset_days":-30,"codes":[
         {"system":"icd-10","prefixes":["E10","E11"]},{"system":"snomed","codes":["44054006"]}]},
       "stratifiers":[{"id":"sex-age","components":["sex","age-band"]},
                      {"id":"chapter","components":["icd10-chapter"]}]},
      {"url":"urn:m:covid","version":"1","title":"c","count":"events",
       "population":{"resource":"Observation","codes":[{"system":"loinc","codes":["94500-6"]}],
                     "value_codes":[{"system":"snomed","codes":["260373001"]}]},
       "stratifiers":[{"id":"week","components":["iso-week"]},{"id":"sex","components":["sex"]}]},
      {"url":"urn:m:stays","version":"1","title":"s","count":"events",
       "population":{"resource":"Encounter","encounter_class":["IMP","EMER"],
                     "care_unit":["Location/0","Location/1"]},
       "stratifiers":[{"id":"cls-unit","components":["encounter-class","care-unit"]},
                      {"id":"month","components":["month"]}]},
      {"url":"urn:m:deaths","version":"1","title":"x","count":"patients",
       "population":{"resource":"Patient","deaths":true,"death_in_class":["IMP"]},
       "stratifiers":[{"id":"unit","components":["care-unit"]}]},
      {"url":"urn:m:all-deaths","version":"1","title":"y","count":"patients","age_bands":[0,75],
       "population":{"resource":"Patient","deaths":true},
       "stratifiers":[{"id":"age","components":["age-band"]}]}]})");
    ASSERT_THAT(pack, IsOk());
    packs_ = {*pack};
  }
  void TearDown() override { store_->UnwatchFacts(&index_); }

  void Put(const std::string& patient, const std::string& id, const std::vector<Fact>& facts) {
    ASSERT_THAT(
        store_->Write({{patient, id, "{}", ingest::EncodeFacts(facts)}}, {"t", "w", "", ""}),
        IsOk());
  }

  // The counts from the index kept current, and from a fresh load of the store.
  void ExpectSameCountsAsAFreshLoad(const std::string& when) {
    auto secret = store_->Secret("cell-key").value();
    for (const char* month : {"2024-12", "2025-01", "2025-02"}) {
      const Period period = ParsePeriod(month).value();
      auto kept = index_.Read([&](const FactTable& t) {
        return ComputeMeasures(t, packs_, period, {}, nullptr, &secret);
      });
      auto fresh = ComputeMeasures(*store_, packs_, period, {}, nullptr, &secret);
      ASSERT_THAT(kept, IsOk());
      ASSERT_THAT(fresh, IsOk());
      ASSERT_EQ(kept->size(), fresh->size());
      for (size_t i = 0; i < kept->size(); ++i) {
        const MeasureCounts& a = (*kept)[i];
        const MeasureCounts& b = (*fresh)[i];
        EXPECT_EQ(a.population, b.population) << when << " " << month << " " << a.measure->url;
        EXPECT_EQ(a.population_key, b.population_key) << when << " " << a.measure->url;
        for (size_t s = 0; s < a.stratifiers.size(); ++s) {
          EXPECT_EQ(a.stratifiers[s].cells, b.stratifiers[s].cells) << when << " " << month;
          EXPECT_EQ(a.stratifiers[s].keys, b.stratifiers[s].keys) << when << " " << month;
        }
      }
    }
  }

  eds::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::vector<MeasurePack> packs_;
  FactIndex index_;
};

TEST_F(FactIndexTest, CountsFromTheKeptIndexMatchAFreshLoadAfterEveryKindOfChange) {
  std::mt19937 rng(20251);
  for (int p = 0; p < 60; ++p) {
    for (int r = 0; r < 6; ++r) {
      Put("p" + std::to_string(p), "R/" + std::to_string(p) + "/" + std::to_string(r),
          RandomFacts(rng, r == 0));
    }
  }
  ASSERT_THAT(store_->WatchFacts(&index_, {"t", "watch", "", ""}), IsOk());
  ExpectSameCountsAsAFreshLoad("loaded");
  uint64_t total = 0;
  index_.Read([&](const FactTable& t) { total = t.rows(); });
  EXPECT_GT(total, 360u);

  // New versions of records (demographics included), facts removed, new records and patients.
  for (int n = 0; n < 80; ++n) {
    const int p = static_cast<int>(rng() % 70);
    const int r = static_cast<int>(rng() % 7);
    auto facts = n % 9 == 0 ? std::vector<Fact>{} : RandomFacts(rng, r == 0);
    ASSERT_THAT(
        store_->Write({{"p" + std::to_string(p), "R/" + std::to_string(p) + "/" + std::to_string(r),
                        "{}", facts.empty() ? std::string() : ingest::EncodeFacts(facts)}},
                      {"t", "w", "", ""}),
        IsOk());
  }
  ExpectSameCountsAsAFreshLoad("updated");

  ASSERT_THAT(store_->MergePatients("p3", "p4", {"t", "merge", "", ""}), IsOk());
  ASSERT_THAT(store_->MergePatients("p5", "p-new", {"t", "merge", "", ""}), IsOk());
  ExpectSameCountsAsAFreshLoad("merged");

  ASSERT_THAT(store_->ErasePatient("p4", {"t", "erase", "", ""}), IsOk());
  ASSERT_THAT(store_->ErasePatient("p7", {"t", "erase", "", ""}), IsOk());
  ExpectSameCountsAsAFreshLoad("erased");
}

TEST_F(FactIndexTest, AReplacedRecordCountsOnceWithItsNewFacts) {
  ASSERT_THAT(store_->WatchFacts(&index_, {"t", "watch", "", ""}), IsOk());
  Fact patient;
  patient.type = FactType::kPatient;
  patient.sex = Sex::kMale;
  patient.day = kJan2025 - 365 * 40;
  Fact stay;
  stay.type = FactType::kEncounter;
  stay.encounter_class = "IMP";
  stay.care_unit = "Location/0";
  stay.day = kJan2025 + 3;
  Put("a", "Patient/a", {patient});
  Put("a", "Encounter/1", {stay});
  stay.day = kJan2025 + 40;  // the stay moves to February
  Put("a", "Encounter/1", {stay});
  patient.sex = Sex::kFemale;  // and the patient's sex is corrected
  Put("a", "Patient/a", {patient});
  const Period jan = ParsePeriod("2025-01").value();
  const Period feb = ParsePeriod("2025-02").value();
  auto counts = [&](const Period& period) {
    return index_.Read(
        [&](const FactTable& t) { return ComputeMeasures(t, packs_, period, {}).value(); });
  };
  EXPECT_EQ(counts(jan)[2].population, 0u);
  const auto in_feb = counts(feb);
  EXPECT_EQ(in_feb[2].population, 1u);
  using Cells = std::map<std::vector<std::string>, uint64_t>;
  EXPECT_EQ(in_feb[2].stratifiers[1].cells, (Cells{{{"2025-02"}, 1}}));
  uint64_t rows = 0;
  index_.Read([&](const FactTable& t) { rows = t.rows(); });
  EXPECT_EQ(rows, 2u);
}

}  // namespace
}  // namespace eds::aggregate
