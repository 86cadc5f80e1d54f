// ReadResource on valid input: what is extracted, what is stored, what is only a warning.
#include "ingest/fhir/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest::fhir {
namespace {

using ::eds::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Optional;

MATCHER_P2(CodingIs, system, code, "") { return arg.system == system && arg.code == code; }

std::string Committed(const std::string& name) {
  return eds::testing::ReadFileOrDie(eds::testing::SourcePath("tests/data/fhir/" + name));
}

const BundleEntry& EntryWithId(const ParsedBundle& bundle, const std::string& id) {
  for (const BundleEntry& e : bundle.entries) {
    if (e.resource.id == id) return e;
  }
  ADD_FAILURE() << "no entry " << id;
  return bundle.entries.front();
}

class FhirSyntheaBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto read = ReadBundle(
        Committed("synthea/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"), nullptr);
    ASSERT_THAT(read, IsOk());
    bundle_ = std::move(read).value();
  }
  ParsedBundle bundle_;
};

TEST(FhirReaderTest, ExtractsPatientIdentifiersGenderAndBirthDate) {
  std::vector<Issue> issues;
  auto patient = ReadResource(Committed("r4-examples/Patient-example.json"), &issues);
  ASSERT_THAT(patient, IsOk());
  EXPECT_THAT(issues, IsEmpty());
  EXPECT_EQ(patient->resource_type, "Patient");
  EXPECT_EQ(patient->kind, ResourceKind::kPatient);
  EXPECT_EQ(patient->id, "example");
  ASSERT_EQ(patient->identifiers.size(), 1u);
  EXPECT_EQ(patient->identifiers[0].system, "urn:oid:1.2.36.146.595.217.0.1");
  EXPECT_EQ(patient->identifiers[0].value, "12345");
  EXPECT_EQ(patient->gender, "male");
  EXPECT_EQ(patient->birth_date, "1974-12-25");
  EXPECT_THAT(patient->deceased, Optional(false));
  EXPECT_THAT(patient->references,
              ElementsAre(Field(&FoundReference::path, "managingOrganization.reference")));
}

TEST_F(FhirSyntheaBundleTest, ExtractsSyntheaPatient) {
  const ParsedResource& p = bundle_.entries[0].resource;
  EXPECT_EQ(p.kind, ResourceKind::kPatient);
  ASSERT_EQ(p.identifiers.size(), 5u);
  EXPECT_EQ(p.identifiers[2].system, "http://hl7.org/fhir/sid/us-ssn");
  EXPECT_EQ(p.identifiers[2].value, "999-48-8934");
  EXPECT_EQ(p.gender, "male");
  EXPECT_EQ(p.birth_date, "1984-07-02");
  EXPECT_EQ(p.deceased, std::nullopt);
}

TEST_F(FhirSyntheaBundleTest, ExtractsObservationLoincCodeValueAndDate) {
  const BundleEntry& e = EntryWithId(bundle_, "2fff439b-abfd-42a4-b17c-07f2cc59fbc9");
  const ParsedResource& o = e.resource;
  EXPECT_EQ(o.kind, ResourceKind::kObservation);
  EXPECT_EQ(e.full_url, "urn:uuid:2fff439b-abfd-42a4-b17c-07f2cc59fbc9");
  EXPECT_EQ(e.method, HttpMethod::kPost);
  EXPECT_EQ(e.url, "Observation");
  EXPECT_THAT(o.codes, ElementsAre(CodingIs("http://loinc.org", "8302-2")));
  EXPECT_THAT(o.value, Optional(168.80253764416227));
  EXPECT_EQ(o.unit, "cm");
  EXPECT_EQ(o.date, "2012-09-10T15:29:24+00:00");
  EXPECT_EQ(o.status, "final");
  EXPECT_EQ(o.subject_reference, "urn:uuid:d78af07c-9cb9-4f31-9b11-c45a28f2eec8");
  EXPECT_EQ(o.encounter_reference, "urn:uuid:afcee359-ffbb-4ae0-b54f-547eb3c58e68");
  // The stored text is the entry's bytes without whitespace, numbers untouched.
  EXPECT_EQ(o.json.find("\": "), std::string::npos);
  EXPECT_NE(o.json.find("\"display\":\"Body Height\""), std::string::npos);
  EXPECT_NE(o.json.find("\"value\":168.80253764416227,"), std::string::npos);
  EXPECT_EQ(o.json.rfind("{\"resourceType\":\"Observation\",\"id\":\"2fff439b", 0), 0u);
}

TEST_F(FhirSyntheaBundleTest, ExtractsBloodPressureComponents) {
  const ParsedResource& o = EntryWithId(bundle_, "d1b60d57-c1a2-4b70-b18a-34169ada507e").resource;
  EXPECT_THAT(o.codes, ElementsAre(CodingIs("http://loinc.org", "55284-4")));
  EXPECT_EQ(o.value, std::nullopt);
  ASSERT_EQ(o.components.size(), 2u);
  EXPECT_THAT(o.components[0].codes, ElementsAre(CodingIs("http://loinc.org", "8462-4")));
  EXPECT_THAT(o.components[0].value, Optional(71.57727343548594));
  EXPECT_EQ(o.components[0].unit, "mm[Hg]");
  EXPECT_THAT(o.components[1].codes, ElementsAre(CodingIs("http://loinc.org", "8480-6")));
}

TEST_F(FhirSyntheaBundleTest, ExtractsEncounterClassTypeDateAndCareUnit) {
  const ParsedResource& enc = EntryWithId(bundle_, "afcee359-ffbb-4ae0-b54f-547eb3c58e68").resource;
  EXPECT_EQ(enc.kind, ResourceKind::kEncounter);
  EXPECT_THAT(enc.codes,
              ElementsAre(CodingIs("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
                          CodingIs("http://snomed.info/sct", "185349003")));
  ASSERT_TRUE(enc.encounter_class.has_value());
  EXPECT_EQ(enc.encounter_class->code, "AMB");
  EXPECT_EQ(enc.date, "2012-09-10T15:29:24+00:00");
  EXPECT_EQ(enc.care_unit_reference, "urn:uuid:6f122869-a856-3d65-8db9-099bf4f5bbb8");
  EXPECT_EQ(enc.subject_reference, "urn:uuid:d78af07c-9cb9-4f31-9b11-c45a28f2eec8");
}

TEST_F(FhirSyntheaBundleTest, ExtractsClinicalCodesAndDates) {
  const ParsedResource& imm = EntryWithId(bundle_, "fcd9bb91-0aac-4c8c-9494-d5dc0bcf6bdb").resource;
  EXPECT_THAT(imm.codes, ElementsAre(CodingIs("http://hl7.org/fhir/sid/cvx", "140")));
  EXPECT_EQ(imm.date, "2012-09-10T15:29:24+00:00");
  EXPECT_EQ(imm.subject_reference, "urn:uuid:d78af07c-9cb9-4f31-9b11-c45a28f2eec8");
  const ParsedResource& cond =
      EntryWithId(bundle_, "0c948634-9289-4c36-bcfc-6ffa49351290").resource;
  EXPECT_THAT(cond.codes, ElementsAre(CodingIs("http://snomed.info/sct", "162864005")));
  EXPECT_EQ(cond.date.substr(0, 10), "2018-09-17");
  const ParsedResource& proc =
      EntryWithId(bundle_, "587433ef-2cf1-4aba-b726-581248e241ef").resource;
  EXPECT_THAT(proc.codes, ElementsAre(CodingIs("http://snomed.info/sct", "428191000124101")));
  EXPECT_EQ(proc.date, "2018-09-17T15:29:24+00:00");  // performedPeriod.start
  const ParsedResource& report =
      EntryWithId(bundle_, "6a327108-c5ca-4d1e-93c6-a077e75fb244").resource;
  EXPECT_THAT(report.codes, ElementsAre(CodingIs("http://loinc.org", "58410-2")));
  // Claim is stored as it is, but its patient is still known for erasure.
  const ParsedResource& claim =
      EntryWithId(bundle_, "a93b70f2-c9a6-4dbd-9ed6-8f7c350f85af").resource;
  EXPECT_EQ(claim.kind, ResourceKind::kOther);
  EXPECT_EQ(claim.subject_reference, "urn:uuid:d78af07c-9cb9-4f31-9b11-c45a28f2eec8");
}

TEST(FhirReaderTest, ExtractsMedicationCodesAndDates) {
  auto request = ReadResource(R"({"resourceType":"MedicationRequest","status":"active",
      "intent":"order","medicationCodeableConcept":{"coding":[{"system":
      "http://www.nlm.nih.gov/research/umls/rxnorm","code":"314076"}]},
      "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
      "authoredOn":"2020-03-01"})",
                              nullptr);
  ASSERT_THAT(request, IsOk());
  EXPECT_THAT(request->codes,
              ElementsAre(CodingIs("http://www.nlm.nih.gov/research/umls/rxnorm", "314076")));
  EXPECT_EQ(request->date, "2020-03-01");
  EXPECT_EQ(request->encounter_reference, "Encounter/e1");
  EXPECT_EQ(request->id, "");  // A POST body may come without an id.

  auto admin = ReadResource(R"({"resourceType":"MedicationAdministration","status":"completed",
      "medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"66493003"}]},
      "subject":{"reference":"Patient/p1"},"context":{"reference":"Encounter/e2"},
      "effectivePeriod":{"start":"2020-03-02T08:00:00Z","end":"2020-03-02T09:00:00Z"}})",
                            nullptr);
  ASSERT_THAT(admin, IsOk());
  EXPECT_EQ(admin->date, "2020-03-02T08:00:00Z");
  EXPECT_EQ(admin->encounter_reference, "Encounter/e2");

  auto allergy = ReadResource(R"({"resourceType":"AllergyIntolerance","patient":{"reference":
      "Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"227493005"}]},
      "onsetDateTime":"2001","recordedDate":"2004-01-01"})",
                              nullptr);
  ASSERT_THAT(allergy, IsOk());
  EXPECT_EQ(allergy->date, "2004-01-01");
  EXPECT_EQ(allergy->subject_reference, "Patient/p1");
}

TEST(FhirReaderTest, ExtractsDischargeDispositionAndLocation) {
  auto enc = ReadResource(R"({"resourceType":"Encounter","status":"finished",
      "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
      "hospitalization":{"dischargeDisposition":{"coding":[{"system":
      "http://terminology.hl7.org/CodeSystem/discharge-disposition","code":"home"}]}},
      "location":[{"location":{"reference":"Location/cardio"}}],
      "serviceProvider":{"reference":"Organization/chu"}})",
                          nullptr);
  ASSERT_THAT(enc, IsOk());
  EXPECT_EQ(enc->care_unit_reference, "Location/cardio");
  EXPECT_THAT(
      enc->discharge_disposition,
      ElementsAre(CodingIs("http://terminology.hl7.org/CodeSystem/discharge-disposition", "home")));
}

TEST(FhirReaderTest, ExtractsDeceasedDateTimeAndValueCodes) {
  auto patient = ReadResource(
      R"({"resourceType":"Patient","deceasedDateTime":"2020-01-02T03:04:05+01:00"})", nullptr);
  ASSERT_THAT(patient, IsOk());
  EXPECT_THAT(patient->deceased, Optional(true));
  EXPECT_EQ(patient->deceased_date_time, "2020-01-02T03:04:05+01:00");
  auto obs = ReadResource(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
      "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]},
      "issued":"2020-01-02T03:04:05Z"})",
                          nullptr);
  ASSERT_THAT(obs, IsOk());
  EXPECT_THAT(obs->value_codes, ElementsAre(CodingIs("http://snomed.info/sct", "260385009")));
  EXPECT_EQ(obs->date, "2020-01-02T03:04:05Z");  // issued, when effective[x] is absent.
}

TEST(FhirReaderTest, StoresOriginalBytesWithoutWhitespace) {
  const std::string pretty =
      "{\n  \"resourceType\" : \"Observation\",\n  \"status\": \"final\",\n"
      "  \"code\": { \"text\": \"a \\\"quoted\\\" \\\\ name \" },\n"
      "  \"valueQuantity\": { \"value\": 1.50, \"unit\": \"mmol/L\" }\n}\n";
  auto obs = ReadResource(pretty, nullptr);
  ASSERT_THAT(obs, IsOk());
  EXPECT_EQ(
      obs->json,
      R"({"resourceType":"Observation","status":"final","code":{"text":"a \"quoted\" \\ name "},"valueQuantity":{"value":1.50,"unit":"mmol/L"}})");
  EXPECT_THAT(obs->value, Optional(1.5));
}

TEST(FhirReaderTest, UnknownElementOfUnderstoodTypeIsOnlyAWarning) {
  std::vector<Issue> issues;
  auto patient = ReadResource(R"({"resourceType":"Patient","id":"p1","favouriteColour":"blue",
      "_birthDate":{"extension":[{"url":"http://example.org/x","valueString":"y"}]},
      "birthDate":"1980-01-01"})",
                              &issues);
  ASSERT_THAT(patient, IsOk());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].severity, "warning");
  EXPECT_EQ(issues[0].code, "structure");
  EXPECT_THAT(issues[0].expression, ElementsAre("Patient.favouriteColour"));
}

TEST(FhirReaderTest, AcceptsOtherResourceTypesAsTheyAre) {
  auto basic = ReadResource(
      R"({"resourceType":"Basic","id":"b.1","whatever":[{"deep":{"reference":"Patient/7"}}]})",
      nullptr);
  ASSERT_THAT(basic, IsOk());
  EXPECT_EQ(basic->kind, ResourceKind::kOther);
  EXPECT_EQ(basic->id, "b.1");
  ASSERT_EQ(basic->references.size(), 1u);
  EXPECT_EQ(basic->references[0].path, "whatever[0].deep.reference");
  EXPECT_EQ(basic->references[0].reference, "Patient/7");
}

TEST(FhirReaderTest, CollectsReferencesFromArraysAndContainedResources) {
  auto obs = ReadResource(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
      "contained":[{"resourceType":"Practitioner","id":"pr"}],
      "performer":[{"reference":"#pr"},{"reference":"Practitioner/2"}]})",
                          nullptr);
  ASSERT_THAT(obs, IsOk());
  ASSERT_EQ(obs->references.size(), 2u);
  EXPECT_EQ(obs->references[1].path, "performer[1].reference");
  EXPECT_EQ(obs->references[1].reference, "Practitioner/2");
}

}  // namespace
}  // namespace eds::ingest::fhir
