// ReadResource on bad input: each problem is reported with its FHIR issue code and the exact
// FHIRPath of the element, and all problems are reported, not only the first.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/fhir/reader.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::fhir {
namespace {

using ::eds::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

auto ErrorAt(const std::string& code, const std::string& expression) {
  return AllOf(Field(&Issue::severity, "error"), Field(&Issue::code, code),
               Field(&Issue::expression, ElementsAre(expression)));
}

// Reads `json`, expects kInvalidArgument, returns the errors (warnings dropped).
std::vector<Issue> Errors(const std::string& json) {
  std::vector<Issue> issues;
  auto r = ReadResource(json, &issues);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  std::vector<Issue> errors;
  for (Issue& i : issues) {
    if (i.severity == "error") errors.push_back(std::move(i));
  }
  return errors;
}

TEST(FhirReaderNegativeTest, InvalidJsonNamesTheCharacterOffset) {
  const auto errors = Errors(R"({"resourceType": "Patient",, "id": "x"})");
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_EQ(errors[0].code, "structure");
  EXPECT_THAT(errors[0].expression, IsEmpty());
  EXPECT_THAT(errors[0].diagnostics, HasSubstr("at character offset 27 (line 1, column 28)"));
}

TEST(FhirReaderNegativeTest, InvalidJsonOffsetCountsCharactersNotBytes) {
  // "ë" and "é" are two bytes each in UTF-8: the stray 'x' is character 52 but byte 54.
  const auto errors =
      Errors("{\"resourceType\":\"Patient\",\n\"name\":[{\"text\":\"Zo\xC3\xAB\xC3\xA9\"}] x}");
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0].diagnostics, HasSubstr("at character offset 52 (line 2, column 26)"));
}

TEST(FhirReaderNegativeTest, UnterminatedStringIsReportedAtItsQuote) {
  const auto errors = Errors(R"({"resourceType":"Patient","id":"abc)");
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0].diagnostics, HasSubstr("at character offset 31 "));
}

TEST(FhirReaderNegativeTest, EmptyInputIsInvalidJson) {
  EXPECT_THAT(Errors(""), ElementsAre(Field(&Issue::code, "structure")));
  EXPECT_THAT(Errors(" \n"), ElementsAre(Field(&Issue::code, "structure")));
}

TEST(FhirReaderNegativeTest, ResourceMustBeAnObject) {
  const auto errors = Errors(R"([{"resourceType":"Patient"}])");
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_EQ(errors[0].code, "structure");
  EXPECT_THAT(errors[0].expression, IsEmpty());
}

TEST(FhirReaderNegativeTest, MissingResourceType) {
  EXPECT_THAT(Errors(R"({"id":"x","gender":"male"})"),
              ElementsAre(ErrorAt("required", "Resource.resourceType")));
}

TEST(FhirReaderNegativeTest, UnknownResourceType) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patientt","id":"x"})"),
              ElementsAre(ErrorAt("value", "Resource.resourceType")));
  EXPECT_THAT(Errors(R"({"resourceType":"patient"})"),
              ElementsAre(ErrorAt("value", "Resource.resourceType")));
  EXPECT_THAT(Errors(R"({"resourceType":"DomainResource"})"),
              ElementsAre(ErrorAt("value", "Resource.resourceType")));
  EXPECT_THAT(Errors(R"({"resourceType":42})"),
              ElementsAre(ErrorAt("structure", "Resource.resourceType")));
}

TEST(FhirReaderNegativeTest, BadId) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","id":"bad id!"})"),
              ElementsAre(ErrorAt("value", "Patient.id")));
  EXPECT_THAT(Errors(R"({"resourceType":"Basic","id":")" + std::string(65, 'a') + "\"}"),
              ElementsAre(ErrorAt("value", "Basic.id")));
  EXPECT_THAT(Errors(R"({"resourceType":"Basic","id":12})"),
              ElementsAre(ErrorAt("structure", "Basic.id")));
}

TEST(FhirReaderNegativeTest, ObservationWithoutStatus) {
  EXPECT_THAT(Errors(R"({"resourceType":"Observation","code":{"text":"x"}})"),
              ElementsAre(ErrorAt("required", "Observation.status")));
}

TEST(FhirReaderNegativeTest, BirthDateOfTheWrongJsonType) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","birthDate":1980})"),
              ElementsAre(ErrorAt("structure", "Patient.birthDate")));
}

TEST(FhirReaderNegativeTest, BirthDateThatIsNotADate) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","birthDate":"1980-13-45"})"),
              ElementsAre(ErrorAt("value", "Patient.birthDate")));
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","birthDate":"1981-02-29"})"),
              ElementsAre(ErrorAt("value", "Patient.birthDate")));
}

TEST(FhirReaderNegativeTest, GenderOutsideItsValueSet) {
  const auto errors = Errors(R"({"resourceType":"Patient","gender":"male-ish"})");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("value", "Patient.gender")));
  EXPECT_THAT(errors[0].diagnostics, HasSubstr("male | female | other | unknown"));
}

TEST(FhirReaderNegativeTest, ReportsEveryProblemNotOnlyTheFirst) {
  const auto errors = Errors(R"({"resourceType":"Observation","effectiveDateTime":"yesterday",
      "subject":{"reference":7},"valueQuantity":{"value":"12"}})");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("value", "Observation.effectiveDateTime"),
                                  ErrorAt("structure", "Observation.subject.reference"),
                                  ErrorAt("structure", "Observation.valueQuantity.value"),
                                  ErrorAt("required", "Observation.status"),
                                  ErrorAt("required", "Observation.code")));
}

TEST(FhirReaderNegativeTest, StatusMessageCountsErrorsAndNamesTheFirst) {
  auto r = ReadResource(R"({"resourceType":"Observation"})", nullptr);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status().message(), HasSubstr("2 errors, first: Observation.status:"));
}

TEST(FhirReaderNegativeTest, CardinalityMismatch) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","identifier":{"value":"1"}})"),
              ElementsAre(ErrorAt("structure", "Patient.identifier")));
  EXPECT_THAT(Errors(R"({"resourceType":"Observation","status":"final","code":[{"text":"x"}]})"),
              ElementsAre(ErrorAt("structure", "Observation.code")));
}

TEST(FhirReaderNegativeTest, NestedDataTypeErrorsNameTheNestedElement) {
  EXPECT_THAT(Errors(R"({"resourceType":"Observation","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"1-8"},{"system":5}]}})"),
              ElementsAre(ErrorAt("structure", "Observation.code.coding[1].system")));
  EXPECT_THAT(Errors(R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
      "period":{"start":"2020-01-01T10:00:00"}})"),
              ElementsAre(ErrorAt("value", "Encounter.period.start")));
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","identifier":[{"value":"1"},
      {"use":"primary","value":"2"}]})"),
              ElementsAre(ErrorAt("value", "Patient.identifier[1].use")));
}

TEST(FhirReaderNegativeTest, RequiredElementsOfEachUnderstoodType) {
  EXPECT_THAT(
      Errors(R"({"resourceType":"Encounter"})"),
      ElementsAre(ErrorAt("required", "Encounter.status"), ErrorAt("required", "Encounter.class")));
  EXPECT_THAT(Errors(R"({"resourceType":"Condition"})"),
              ElementsAre(ErrorAt("required", "Condition.subject")));
  EXPECT_THAT(Errors(R"({"resourceType":"Procedure"})"),
              ElementsAre(ErrorAt("required", "Procedure.status"),
                          ErrorAt("required", "Procedure.subject")));
  EXPECT_THAT(Errors(R"({"resourceType":"MedicationRequest"})"),
              ElementsAre(ErrorAt("required", "MedicationRequest.status"),
                          ErrorAt("required", "MedicationRequest.intent"),
                          ErrorAt("required", "MedicationRequest.subject"),
                          ErrorAt("required", "MedicationRequest.medication[x]")));
  EXPECT_THAT(Errors(R"({"resourceType":"MedicationAdministration"})"),
              ElementsAre(ErrorAt("required", "MedicationAdministration.status"),
                          ErrorAt("required", "MedicationAdministration.subject"),
                          ErrorAt("required", "MedicationAdministration.medication[x]"),
                          ErrorAt("required", "MedicationAdministration.effective[x]")));
  EXPECT_THAT(Errors(R"({"resourceType":"DiagnosticReport"})"),
              ElementsAre(ErrorAt("required", "DiagnosticReport.status"),
                          ErrorAt("required", "DiagnosticReport.code")));
  EXPECT_THAT(Errors(R"({"resourceType":"Immunization"})"),
              ElementsAre(ErrorAt("required", "Immunization.status"),
                          ErrorAt("required", "Immunization.vaccineCode"),
                          ErrorAt("required", "Immunization.patient"),
                          ErrorAt("required", "Immunization.occurrence[x]")));
  EXPECT_THAT(Errors(R"({"resourceType":"AllergyIntolerance"})"),
              ElementsAre(ErrorAt("required", "AllergyIntolerance.patient")));
  EXPECT_THAT(Errors(R"({"resourceType":"Observation","status":"final","code":{"text":"bp"},
      "component":[{"valueQuantity":{"value":1}}]})"),
              ElementsAre(ErrorAt("required", "Observation.component[0].code")));
}

TEST(FhirReaderNegativeTest, TwoTypesOfOneChoiceElement) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","deceasedBoolean":true,
      "deceasedDateTime":"2020-01-01"})"),
              ElementsAre(ErrorAt("structure", "Patient.deceasedDateTime")));
}

TEST(FhirReaderNegativeTest, CodingOfABoundCodeableConcept) {
  EXPECT_THAT(Errors(R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},
      "clinicalStatus":{"coding":[{"system":
      "http://terminology.hl7.org/CodeSystem/condition-clinical","code":"cured"}]}})"),
              ElementsAre(ErrorAt("value", "Condition.clinicalStatus.coding[0].code")));
}

TEST(FhirReaderNegativeTest, StatusCodesOfRequiredValueSets) {
  EXPECT_THAT(Errors(R"({"resourceType":"Observation","status":"done","code":{"text":"x"}})"),
              ElementsAre(ErrorAt("value", "Observation.status")));
  EXPECT_THAT(Errors(R"({"resourceType":"Encounter","status":"closed","class":{"code":"AMB"}})"),
              ElementsAre(ErrorAt("value", "Encounter.status")));
}

TEST(FhirReaderNegativeTest, IntegersAndBooleans) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","multipleBirthInteger":1.5})"),
              ElementsAre(ErrorAt("value", "Patient.multipleBirthInteger")));
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","active":"true"})"),
              ElementsAre(ErrorAt("structure", "Patient.active")));
}

TEST(FhirReaderNegativeTest, DuplicatePropertyAndNull) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","gender":"male","gender":"female"})"),
              ElementsAre(ErrorAt("structure", "Patient.gender")));
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","gender":null})"),
              ElementsAre(ErrorAt("structure", "Patient.gender")));
}

TEST(FhirReaderNegativeTest, ContainedResourceNeedsAResourceType) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient","contained":[{"id":"x"}]})"),
              ElementsAre(ErrorAt("required", "Patient.contained[0].resourceType")));
}

TEST(FhirReaderNegativeTest, TooDeepNestingIsRefused) {
  std::string deep = R"({"resourceType":"Basic","x":)";
  deep += std::string(200, '[') + std::string(200, ']') + "}";
  const auto errors = Errors(deep);
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_EQ(errors[0].code, "structure");
  EXPECT_THAT(errors[0].diagnostics, HasSubstr("character offset 154 "));
}

TEST(FhirReaderNegativeTest, WarningsDoNotHideErrors) {
  std::vector<Issue> issues;
  auto r = ReadResource(R"({"resourceType":"Patient","nickname":"x","gender":"m"})", &issues);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(issues, Contains(Field(&Issue::severity, "warning")));
  EXPECT_THAT(issues, Contains(ErrorAt("value", "Patient.gender")));
}

}  // namespace
}  // namespace eds::ingest::fhir
