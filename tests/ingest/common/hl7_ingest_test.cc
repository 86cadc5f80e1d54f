// HL7 v2 into a real store: facts with age and sex from PID, and an A40 merge that moves the
// merged patient's records and facts to the survivor.
#include "ingest/hl7_ingest.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "ingest/facts.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest {
namespace {

using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using ::eds::testing::TempDir;

std::string Fixture(const std::string& name) {
  return ReadFileOrDie(SourcePath("tests/data/hl7/pam-fr/" + name));
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// The same patient's messages for another patient: other hospital number, no INS.
std::string OtherPatient(std::string message, const std::string& control_suffix) {
  message = Replace(message, "0012345678", "0012349999");
  message = Replace(
      message, "~285022505604263^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS^^20230115", "");
  message = Replace(message, "19850214", "19500701");
  message = Replace(message, "GAMX-000101", "GAMX-0009" + control_suffix);
  return Replace(message, "LABX-004501", "LABX-0009" + control_suffix);
}

class Hl7IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions o;
    o.data_dir = dir_.Sub("data");
    store_ = std::move(storage::Store::Open(o, storage::SecretKey::Random()).value());
    pseudonymizer_ = std::make_unique<Pseudonymizer>(store_->Secret("pseudonym").value());
    ingest_ = std::make_unique<Hl7Ingest>(*store_, *pseudonymizer_, &errors_);
  }
  std::string Send(const std::string& message) { return ingest_->Ingest(message, {"127.0.0.1"}); }
  static bool Accepted(const std::string& ack) { return ack.find("MSA|AA|") != std::string::npos; }

  // Every patient's decoded facts.
  std::map<uint64_t, std::vector<Fact>> Facts() {
    std::map<uint64_t, std::vector<Fact>> out;
    EXPECT_TRUE(store_
                    ->ScanFacts(
                        [&](uint64_t no, std::string_view bytes) {
                          auto facts = DecodeFacts(bytes);
                          EXPECT_TRUE(facts.ok());
                          for (auto& f : *facts) out[no].push_back(std::move(f));
                          return true;
                        },
                        {"test", "scan", "", ""})
                    .ok());
    return out;
  }

  std::string PseudonymOf(const std::string& ipp) {
    const auto p = store_->ResolveAlias(Pseudonymizer::AliasOf({"2.999.250.1", ipp, "PI"}));
    return p.ok() && p->has_value() ? **p : "";
  }

  TempDir dir_;
  IngestErrorLog errors_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_;
  std::unique_ptr<Hl7Ingest> ingest_;
};

TEST_F(Hl7IngestTest, RefusalsLeaveTheirReasonAndNoPatientDataInTheErrorLog) {
  const std::string good = Fixture("oru_r01_biologie.hl7");
  ASSERT_TRUE(Accepted(Send(good)));
  EXPECT_TRUE(errors_.Recent().empty());
  const std::string no_id = Replace(good,
                                    "0012345678^^^HOPITAL-EXEMPLE&2.999.250.1&ISO^PI~"
                                    "285022505604263^^^ASIP-SANTE-INS-NIR&1.2.250."
                                    "1.213.1.4.8&ISO^INS^^20230115",
                                    "");
  EXPECT_NE(Send(Replace(no_id, "LABX-004501", "LABX-004502")).find("MSA|AE|"), std::string::npos);
  EXPECT_NE(Send("not an HL7 message").find("MSA|AR|"), std::string::npos);
  const auto errors = errors_.Recent();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, "AR");  // newest first
  EXPECT_EQ(errors[1].code, "AE");
  EXPECT_EQ(errors[1].feed, "mllp");
  EXPECT_EQ(errors[1].source, "mllp 127.0.0.1");
  EXPECT_NE(errors[1].reason.find("PID"), std::string::npos) << errors[1].reason;
  EXPECT_GT(errors[1].at_ms, 0);
  for (const auto& e : errors) {
    for (const char* personal : {"LEF", "19850214", "285022505604263", "0012345678"}) {
      EXPECT_EQ(e.reason.find(personal), std::string::npos) << e.reason;
    }
  }
}

TEST(IngestErrorLogTest, KeepsTheNewestUpToItsCapacity) {
  IngestErrorLog log(2);
  for (const char* reason : {"one", "two", "three"}) log.Add({1, "fhir", "fhir t", "400", reason});
  const auto recent = log.Recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].reason, "three");
  EXPECT_EQ(recent[1].reason, "two");
}

TEST_F(Hl7IngestTest, FactsCarryCodesValuesAgeAndSexFromThePidSegment) {
  ASSERT_TRUE(Accepted(Send(Fixture("oru_r01_biologie.hl7"))));
  const auto facts = Facts();
  ASSERT_EQ(facts.size(), 1u);
  std::map<std::string, Fact> by_code;
  for (const auto& f : facts.begin()->second) {
    if (f.type == FactType::kObservation && !f.codes.empty()) by_code[f.codes[0].code] = f;
  }
  ASSERT_EQ(by_code.count("2823-3"), 1u);
  const Fact& potassium = by_code["2823-3"];
  EXPECT_EQ(potassium.codes[0].system, CodeSystem::kLoinc);
  ASSERT_TRUE(potassium.value.has_value());
  EXPECT_DOUBLE_EQ(*potassium.value, 5.8);
  EXPECT_EQ(potassium.unit, "mmol/L");
  EXPECT_EQ(potassium.sex, Sex::kFemale);
  EXPECT_EQ(potassium.day, DayOf("2025-01-14"));
  EXPECT_EQ(potassium.age_months, AgeMonths(DayOf("1985-02-15"), DayOf("2025-01-14")));
}

TEST_F(Hl7IngestTest, AdmissionFactsNameTheClassAndTheCareUnit) {
  ASSERT_TRUE(Accepted(Send(Fixture("adt_a01_ins.hl7"))));
  bool found = false;
  for (const auto& [no, facts] : Facts()) {
    for (const auto& f : facts) {
      if (f.type != FactType::kEncounter) continue;
      found = true;
      EXPECT_EQ(f.encounter_class, "IMP");
      EXPECT_FALSE(f.care_unit.empty());
      EXPECT_EQ(f.day, DayOf("2025-01-10"));
    }
  }
  EXPECT_TRUE(found);
}

// Every message repeats its patient's details: an unchanged Patient record is not written again,
// so no block is left with a replaced record; changed details are written.
TEST_F(Hl7IngestTest, AnUnchangedPatientIsNotRewrittenAndAChangedOneIs) {
  const std::string first = Fixture("oru_r01_biologie.hl7");
  ASSERT_TRUE(Accepted(Send(first)));
  ASSERT_TRUE(Accepted(Send(Replace(first, "LABX-004501", "LABX-004502"))));
  auto collected = store_->CollectBlocks();
  ASSERT_THAT(collected, ::eds::testing::IsOk());
  EXPECT_EQ(collected->markers, 0u) << "a record of the first message was replaced";

  const std::string renamed =
      Replace(Replace(first, "LABX-004501", "LABX-004503"), "LEFÈVRE^Élodie", "DURAND^Élodie");
  ASSERT_TRUE(Accepted(Send(renamed)));
  collected = store_->CollectBlocks();
  ASSERT_THAT(collected, ::eds::testing::IsOk());
  EXPECT_EQ(collected->markers, 1u);
  const std::string pseudonym = PseudonymOf("0012345678");
  ASSERT_FALSE(pseudonym.empty());
  auto patient =
      store_->Read(pseudonym, "Patient/" + PatientLogicalId(pseudonym), {"test", "read", "", ""});
  ASSERT_THAT(patient, ::eds::testing::IsOk());
  EXPECT_NE(patient->find("DURAND"), std::string::npos);
  EXPECT_EQ(patient->find("LEF"), std::string::npos);
}

TEST_F(Hl7IngestTest, MergeMovesTheMergedPatientsRecordsAndFactsToTheSurvivor) {
  ASSERT_TRUE(Accepted(Send(Fixture("adt_a01_ins.hl7"))));
  ASSERT_TRUE(Accepted(Send(OtherPatient(Fixture("adt_a01_ins.hl7"), "01"))));
  ASSERT_TRUE(Accepted(Send(OtherPatient(Fixture("oru_r01_biologie.hl7"), "02"))));
  const std::string survivor = PseudonymOf("0012345678");
  const std::string merged = PseudonymOf("0012349999");
  ASSERT_FALSE(survivor.empty());
  ASSERT_FALSE(merged.empty());
  ASSERT_NE(survivor, merged);
  const uint64_t survivor_no = store_->PatientNumber(survivor).value();
  size_t facts_before = 0;
  for (const auto& [no, facts] : Facts()) facts_before += facts.size();
  ASSERT_EQ(Facts().size(), 2u);

  ASSERT_TRUE(Accepted(Send(Fixture("adt_a40_merge.hl7"))));

  // One patient left: every fact is the survivor's, the merged identifiers name it, and the
  // merged-away Patient no longer counts as a patient.
  const auto after = Facts();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after.begin()->first, survivor_no);
  size_t patients = 0, observations = 0;
  for (const auto& f : after.begin()->second) {
    patients += f.type == FactType::kPatient;
    observations += f.type == FactType::kObservation;
  }
  EXPECT_EQ(patients, 1u);
  EXPECT_EQ(observations, 3u);
  EXPECT_GE(after.begin()->second.size() + 1, facts_before);
  EXPECT_EQ(PseudonymOf("0012349999"), survivor);
  EXPECT_FALSE(store_->PatientNumber(merged).ok());
  auto old_patient = store_->ReadAny("Patient/" + PatientLogicalId(merged), {"t", "read", "", ""});
  ASSERT_TRUE(old_patient.ok());
  EXPECT_NE(old_patient->find("replaced-by"), std::string::npos);
  EXPECT_NE(old_patient->find("Patient/" + PatientLogicalId(survivor)), std::string::npos);

  // Later messages with the old number land on the survivor too; the resent merge changes
  // nothing.
  ASSERT_TRUE(Accepted(Send(OtherPatient(Fixture("oru_r01_biologie.hl7"), "03"))));
  EXPECT_EQ(Facts().size(), 1u);
  ASSERT_TRUE(Accepted(Send(Fixture("adt_a40_merge.hl7"))));
  EXPECT_EQ(Facts().size(), 1u);
}

}  // namespace
}  // namespace eds::ingest
