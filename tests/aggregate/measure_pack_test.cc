#include "aggregate/measure_pack.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::SourcePath;
using ::testing::HasSubstr;

TEST(MeasurePackTest, TheDefaultPackLoads) {
  auto pack = LoadMeasurePack(SourcePath("packs/eds-default.json").string());
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_EQ(pack->id, "eds-default");
  EXPECT_GE(pack->measures.size(), 8u);
  for (const auto& m : pack->measures) {
    EXPECT_FALSE(m.title.empty()) << m.url;
    EXPECT_FALSE(m.stratifiers.empty()) << m.url;
  }
  // CIM-10 codes are kept without dot, mixed systems in one list.
  const auto& diabetes = pack->measures[3];
  ASSERT_EQ(diabetes.population.codes.size(), 2u);
  EXPECT_EQ(diabetes.population.codes[0].system, ingest::CodeSystem::kIcd10);
  EXPECT_EQ(diabetes.population.codes[1].system, ingest::CodeSystem::kSnomed);
}

// A valid one-measure pack, changed by `edit`, must fail naming `where` and `field`.
void ExpectRefused(const std::function<void(nlohmann::json&)>& edit, const std::string& where,
                   const std::string& field) {
  nlohmann::json pack = {
      {"pack", "p"},
      {"version", "1"},
      {"title", "t"},
      {"measures",
       {{{"url", "https://example.org/Measure/m"},
         {"version", "1"},
         {"title", "m"},
         {"count", "patients"},
         {"age_bands", {0, 18, 65}},
         {"population", {{"resource", "Condition"}}},
         {"stratifiers", {{{"id", "a"}, {"components", {"age-band", "sex"}}}}}}}}};
  ASSERT_TRUE(ParseMeasurePack(pack.dump()).ok());
  edit(pack);
  auto r = ParseMeasurePack(pack.dump());
  ASSERT_FALSE(r.ok()) << pack.dump();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(where));
  EXPECT_THAT(r.status().message(), HasSubstr(field));
}

TEST(MeasurePackTest, BadPacksNameTheMeasureAndTheField) {
  const std::string m = "measure https://example.org/Measure/m";
  ExpectRefused([](auto& p) { p["measures"][0].erase("url"); }, "measure[0]", "url");
  ExpectRefused([](auto& p) { p["measures"][0]["url"] = "m"; }, "measure m", "url");
  ExpectRefused([](auto& p) { p["measures"][0]["colour"] = 1; }, m, "colour");
  ExpectRefused([](auto& p) { p["measures"][0]["count"] = "rows"; }, m, "count");
  ExpectRefused([](auto& p) { p["measures"][0]["population"]["resource"] = "Car"; }, m,
                "population.resource");
  ExpectRefused(
      [](auto& p) {
        p["measures"][0]["population"]["codes"] = {{{"codes", {"x"}}}};
      },
      m, "population.codes[0].system");
  ExpectRefused([](auto& p) { p["measures"][0]["population"]["start_offset_days"] = 99999; }, m,
                "population.start_offset_days");
  ExpectRefused([](auto& p) { p["measures"][0]["age_bands"] = {5, 18}; }, m, "age_bands[0]");
  ExpectRefused([](auto& p) { p["measures"][0].erase("age_bands"); }, m,
                "stratifiers[0].components[0]");
  ExpectRefused(
      [](auto& p) {
        p["measures"][0]["stratifiers"][0]["components"] = {"sex", "shoe-size"};
      },
      m, "stratifiers[0].components[1]");
  ExpectRefused([](auto& p) { p["measures"].push_back(p["measures"][0]); }, m, "appears twice");
  ExpectRefused([](auto& p) { p["measures"][0]["population"]["deaths"] = true; }, m,
                "population.deaths");
  ExpectRefused([](auto& p) { p.erase("version"); }, "measure pack", "version");
}

TEST(MeasurePackTest, AgeBandsAndChapters) {
  const std::vector<int> bands = {0, 18, 45, 65, 75};
  EXPECT_EQ(AgeBandLabel(bands, 0), "0-17");
  EXPECT_EQ(AgeBandLabel(bands, 17 * 12 + 11), "0-17");
  EXPECT_EQ(AgeBandLabel(bands, 18 * 12), "18-44");
  EXPECT_EQ(AgeBandLabel(bands, 80 * 12), "75+");
  EXPECT_EQ(AgeBandLabel(bands, -1), "unknown");
  EXPECT_EQ(Icd10Chapter("E119"), "IV");
  EXPECT_EQ(Icd10Chapter("J189"), "X");
  EXPECT_EQ(Icd10Chapter("U071"), "XXII");
  EXPECT_EQ(Icd10Chapter("D50"), "III");
  EXPECT_EQ(Icd10Chapter("D48"), "II");
  EXPECT_EQ(Icd10Chapter("12"), "");
}

}  // namespace
}  // namespace eds::aggregate
