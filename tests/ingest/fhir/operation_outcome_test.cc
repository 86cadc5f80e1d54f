#include "ingest/fhir/operation_outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ingest/fhir/reader.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::fhir {
namespace {

using ::eds::testing::IsOk;

nlohmann::json Parse(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

TEST(FhirOperationOutcomeTest, CarriesSeverityCodeDiagnosticsAndExpression) {
  const std::string json = OperationOutcomeJson(
      {ErrorIssue("required", "Observation.status", "Observation.status is required"),
       WarningIssue("structure", "Observation.foo", "unknown element")});
  const auto j = Parse(json);
  EXPECT_EQ(j["resourceType"], "OperationOutcome");
  ASSERT_EQ(j["issue"].size(), 2u);
  EXPECT_EQ(j["issue"][0]["severity"], "error");
  EXPECT_EQ(j["issue"][0]["code"], "required");
  EXPECT_EQ(j["issue"][0]["diagnostics"], "Observation.status is required");
  EXPECT_EQ(j["issue"][0]["expression"][0], "Observation.status");
  EXPECT_EQ(j["issue"][1]["severity"], "warning");
}

TEST(FhirOperationOutcomeTest, NoIssuesGivesOneInformationalIssue) {
  const auto j = Parse(OperationOutcomeJson({}));
  ASSERT_EQ(j["issue"].size(), 1u);
  EXPECT_EQ(j["issue"][0]["severity"], "information");
  EXPECT_EQ(j["issue"][0]["code"], "informational");
}

TEST(FhirOperationOutcomeTest, LeavesOutAnEmptyExpression) {
  const auto j = Parse(OperationOutcomeJson({ErrorIssue("structure", "", "invalid JSON")}));
  EXPECT_FALSE(j["issue"][0].contains("expression"));
}

TEST(FhirOperationOutcomeTest, EscapesQuotesControlsAndBrokenUtf8) {
  const std::string json = OperationOutcomeJson(
      {ErrorIssue("value", "Patient.name", "bad \"name\" \\ \n\x01 caf\xC3\xA9 \xFF\xC3")});
  const auto j = Parse(json);
  EXPECT_EQ(j["issue"][0]["diagnostics"],
            "bad \"name\" \\ \n\x01 caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(FhirOperationOutcomeTest, IsAValidFhirResource) {
  auto read = ReadResource(
      OperationOutcomeJson({ErrorIssue("not-found", "Bundle.entry[0].resource.subject.reference",
                                       "urn:uuid reference does not match any fullUrl")}),
      nullptr);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->resource_type, "OperationOutcome");
}

TEST(FhirOperationOutcomeTest, HasErrorIgnoresWarnings) {
  EXPECT_FALSE(HasError({WarningIssue("structure", "Patient.x", "unknown")}));
  EXPECT_TRUE(HasError({WarningIssue("structure", "Patient.x", "unknown"),
                        ErrorIssue("value", "Patient.gender", "bad")}));
  EXPECT_TRUE(HasError({Issue{"fatal", "exception", "", {}}}));
}

}  // namespace
}  // namespace eds::ingest::fhir
