// Fact extraction from real FHIR examples, dates and ages, and the binary form.
#include "ingest/facts.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest {
namespace {

using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using ::eds::testing::StatusIs;

fhir::ParsedResource Example(const std::string& name) {
  auto r =
      fhir::ReadResource(ReadFileOrDie(SourcePath("tests/data/fhir/r4-examples/" + name)), nullptr);
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? *r : fhir::ParsedResource{};
}

TEST(FactDatesTest, DaysRoundTripThroughCivilDates) {
  EXPECT_EQ(DayOf("1970-01-01"), 0);
  EXPECT_EQ(DayOf("2024-03-01"), DayOf("2024-02-28") + 2);             // leap year
  EXPECT_EQ(DayOf("2024-03-05T23:30:00-05:00"), DayOf("2024-03-05"));  // the date as written
  EXPECT_EQ(DayOf("2024-03"), DayOf("2024-03-01"));
  EXPECT_EQ(DayOf("2024"), DayOf("2024-01-01"));
  EXPECT_EQ(DayOf("24-03-05"), kUnknownDay);
  EXPECT_EQ(DayOf("2024-13-01"), kUnknownDay);
  EXPECT_EQ(DayOf(""), kUnknownDay);
  for (int32_t d : {-800000, -1, 0, 59, 19000, 20000, 2932896}) {
    const CivilDate c = CivilOf(d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
    if (c.year >= 0 && c.year <= 9999) {
      EXPECT_EQ(DayOf(buf), d) << buf;
    }
  }
}

TEST(FactDatesTest, AgeInMonthsAtTheEvent) {
  EXPECT_EQ(AgeMonths(DayOf("2000-05-15"), DayOf("2000-05-15")), 0);
  EXPECT_EQ(AgeMonths(DayOf("2000-05-15"), DayOf("2001-05-14")), 11);
  EXPECT_EQ(AgeMonths(DayOf("2000-05-15"), DayOf("2001-05-15")), 12);
  EXPECT_EQ(AgeMonths(DayOf("2000-05-15"), DayOf("2065-06-01")), 65 * 12);
  EXPECT_EQ(AgeMonths(DayOf("2000-05-15"), DayOf("1999-01-01")), kUnknownAge);
  EXPECT_EQ(AgeMonths(kUnknownDay, DayOf("1999-01-01")), kUnknownAge);
}

TEST(FactCodesTest, SystemsAreRecognisedFromUrisOidsAndV2Names) {
  EXPECT_EQ(CodeSystemOf("http://loinc.org"), CodeSystem::kLoinc);
  EXPECT_EQ(CodeSystemOf("LN"), CodeSystem::kLoinc);
  EXPECT_EQ(CodeSystemOf("http://snomed.info/sct"), CodeSystem::kSnomed);
  EXPECT_EQ(CodeSystemOf("http://hl7.org/fhir/sid/icd-10"), CodeSystem::kIcd10);
  EXPECT_EQ(CodeSystemOf("I10"), CodeSystem::kIcd10);
  EXPECT_EQ(CodeSystemOf("http://www.whocc.no/atc"), CodeSystem::kAtc);
  EXPECT_EQ(CodeSystemOf("http://example.org/local"), CodeSystem::kOther);
}

TEST(FactExtractionTest, PatientKeepsSexAndBirthMonthOnly) {
  const auto patient = Example("Patient-example.json");  // born 1974-12-25
  const auto facts = ExtractFacts(patient, nullptr);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].type, FactType::kPatient);
  EXPECT_EQ(facts[0].sex, Sex::kMale);
  EXPECT_EQ(facts[0].day, DayOf("1974-12-15"));  // the middle of the month, not the 25th
  EXPECT_FALSE(facts[0].deceased);
}

TEST(FactExtractionTest, ObservationCarriesCodesDateValueAndAgeWhenThePatientIsKnown) {
  const auto obs = Example("Observation-example.json");
  const Demographics d = DemographicsOf(Example("Patient-example.json"));
  const auto facts = ExtractFacts(obs, &d);
  ASSERT_EQ(facts.size(), 1u);
  const Fact& f = facts[0];
  EXPECT_EQ(f.type, FactType::kObservation);
  ASSERT_EQ(f.codes.size(), 4u);
  EXPECT_EQ(f.codes[0], (FactCode{CodeSystem::kLoinc, "", "29463-7"}));
  EXPECT_EQ(f.codes[3].system, CodeSystem::kOther);
  EXPECT_EQ(f.codes[3].system_uri, "http://acme.org/devices/clinical-codes");
  EXPECT_EQ(f.day, DayOf("2016-03-28"));
  ASSERT_TRUE(f.value.has_value());
  EXPECT_DOUBLE_EQ(*f.value, 185);
  EXPECT_EQ(f.unit, "[lb_av]");
  EXPECT_EQ(f.sex, Sex::kMale);
  EXPECT_EQ(f.age_months, AgeMonths(DayOf("1974-12-15"), DayOf("2016-03-28")));
  // Without the patient, age and sex wait for the demographics.
  const auto alone = ExtractFacts(obs, nullptr);
  EXPECT_EQ(alone[0].age_months, kUnknownAge);
  EXPECT_EQ(alone[0].sex, Sex::kUnknown);
}

TEST(FactExtractionTest, EncounterCarriesClassCareUnitAndStay) {
  const auto enc = Example("Encounter-example.json");
  const auto facts = ExtractFacts(enc, nullptr);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].type, FactType::kEncounter);
  EXPECT_EQ(facts[0].encounter_class, "IMP");
}

TEST(FactExtractionTest, ConditionIcd10CodesLoseTheirDot) {
  auto r = fhir::ReadResource(
      R"({"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"e11.9"}]},"onsetDateTime":"2024-02-03"})",
      nullptr);
  ASSERT_TRUE(r.ok());
  const auto facts = ExtractFacts(*r, nullptr);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].codes[0], (FactCode{CodeSystem::kIcd10, "", "E119"}));
  EXPECT_EQ(facts[0].day, DayOf("2024-02-03"));
}

TEST(FactExtractionTest, EnteredInErrorAndUnanalysedTypesHaveNoFacts) {
  auto r = fhir::ReadResource(
      R"({"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]},"code":{"text":"x"}})",
      nullptr);
  ASSERT_TRUE(r.ok());
  auto obs = fhir::ReadResource(
      R"({"resourceType":"Observation","id":"o","status":"entered-in-error","code":{"coding":[{"system":"http://loinc.org","code":"1-8"}]}})",
      nullptr);
  ASSERT_TRUE(obs.ok());
  EXPECT_TRUE(ExtractFacts(*r, nullptr).empty());
  EXPECT_TRUE(ExtractFacts(*obs, nullptr).empty());
  EXPECT_TRUE(ExtractFacts(Example("Organization-1.json"), nullptr).empty());
}

TEST(FactEncodingTest, RoundTripsAndRefusesDamagedBytes) {
  std::vector<Fact> facts;
  for (const char* name :
       {"Observation-example.json", "Encounter-example.json", "Condition-example.json",
        "Patient-example.json", "DiagnosticReport-f201.json", "Immunization-example.json"}) {
    for (auto& f : ExtractFacts(Example(name), nullptr)) facts.push_back(std::move(f));
  }
  facts[0].value = -0.5;
  facts[0].value_codes = {{CodeSystem::kSnomed, "", "260373001"}};
  facts[1].discharge = {{CodeSystem::kOther, "http://example.org/d", "exp"}};
  const std::string bytes = EncodeFacts(facts);
  auto back = DecodeFacts(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, facts);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_THAT(DecodeFacts(bytes.substr(0, cut)), StatusIs(StatusCode::kDataLoss)) << cut;
  }
  EXPECT_THAT(DecodeFacts(bytes + "x"), StatusIs(StatusCode::kDataLoss));
}

}  // namespace
}  // namespace eds::ingest
