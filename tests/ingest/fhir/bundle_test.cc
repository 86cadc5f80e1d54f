// ReadBundle: batch and transaction rules, urn:uuid resolution, per-entry results of a batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/fhir/reader.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::fhir {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

auto ErrorAt(const std::string& code, const std::string& expression) {
  return AllOf(Field(&Issue::severity, "error"), Field(&Issue::code, code),
               Field(&Issue::expression, ElementsAre(expression)));
}

constexpr char kPatientEntry[] = R"({"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111",
    "resource":{"resourceType":"Patient","gender":"female"},
    "request":{"method":"POST","url":"Patient"}})";

std::string ObservationEntry(const std::string& subject) {
  return R"({"fullUrl":"urn:uuid:22222222-2222-4222-8222-222222222222",
    "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":")" +
         subject + R"("}},
    "request":{"method":"POST","url":"Observation"}})";
}

std::string Bundle(const std::string& type, const std::vector<std::string>& entries) {
  std::string out = R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)";
  for (size_t i = 0; i < entries.size(); ++i) out += (i > 0 ? "," : "") + entries[i];
  return out + "]}";
}

std::vector<Issue> Errors(const std::string& json) {
  std::vector<Issue> issues;
  auto r = ReadBundle(json, &issues);
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  std::vector<Issue> errors;
  for (Issue& i : issues) {
    if (i.severity == "error") errors.push_back(std::move(i));
  }
  return errors;
}

TEST(FhirBundleTest, ReadsTransactionWithResolvedReferences) {
  std::vector<Issue> issues;
  auto bundle = ReadBundle(
      Bundle("transaction",
             {kPatientEntry, ObservationEntry("urn:uuid:11111111-1111-4111-8111-111111111111")}),
      &issues);
  ASSERT_THAT(bundle, IsOk());
  EXPECT_THAT(issues, IsEmpty());
  EXPECT_EQ(bundle->type, BundleType::kTransaction);
  ASSERT_EQ(bundle->entries.size(), 2u);
  const BundleEntry& obs = bundle->entries[1];
  EXPECT_EQ(obs.index, 1u);
  EXPECT_EQ(obs.full_url, "urn:uuid:22222222-2222-4222-8222-222222222222");
  EXPECT_EQ(obs.method, HttpMethod::kPost);
  EXPECT_EQ(obs.url, "Observation");
  EXPECT_THAT(obs.status, IsOk());
  EXPECT_EQ(obs.resource.subject_reference, "urn:uuid:11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(bundle->entries[0].resource.json, R"({"resourceType":"Patient","gender":"female"})");
}

TEST(FhirBundleTest, DanglingUrnUuidReferenceIsNotFoundAtTheReference) {
  const auto errors = Errors(
      Bundle("transaction",
             {kPatientEntry, ObservationEntry("urn:uuid:99999999-9999-4999-8999-999999999999")}));
  EXPECT_THAT(errors,
              ElementsAre(ErrorAt("not-found", "Bundle.entry[1].resource.subject.reference")));
}

TEST(FhirBundleTest, RelativeReferencesNeedNoEntry) {
  EXPECT_THAT(ReadBundle(Bundle("transaction", {ObservationEntry("Patient/123")}), nullptr),
              IsOk());
}

TEST(FhirBundleTest, DocumentBundleIsNotSupported) {
  EXPECT_THAT(Errors(Bundle("document", {})), ElementsAre(ErrorAt("not-supported", "Bundle.type")));
  EXPECT_THAT(Errors(Bundle("fancy", {})), ElementsAre(ErrorAt("value", "Bundle.type")));
  EXPECT_THAT(Errors(R"({"resourceType":"Bundle"})"),
              ElementsAre(ErrorAt("required", "Bundle.type")));
}

TEST(FhirBundleTest, OtherResourceThanBundleIsNotSupported) {
  EXPECT_THAT(Errors(R"({"resourceType":"Patient"})"),
              ElementsAre(ErrorAt("not-supported", "Resource.resourceType")));
}

TEST(FhirBundleTest, TransactionEntryWithoutRequest) {
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"resource":{"resourceType":"Basic"}})"})),
              ElementsAre(ErrorAt("required", "Bundle.entry[0].request")));
}

TEST(FhirBundleTest, DeleteAndGetAreNotSupported) {
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"request":{"method":"DELETE","url":"Patient/1"}})",
                                            R"({"request":{"method":"GET","url":"Patient/2"}})"})),
              ElementsAre(ErrorAt("not-supported", "Bundle.entry[0].request.method"),
                          ErrorAt("not-supported", "Bundle.entry[1].request.method")));
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"request":{"method":"FETCH","url":"x"}})"})),
              ElementsAre(ErrorAt("value", "Bundle.entry[0].request.method")));
}

TEST(FhirBundleTest, PostOrPutEntryNeedsResourceAndUrl) {
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"request":{"method":"POST"}})"})),
              ElementsAre(ErrorAt("required", "Bundle.entry[0].request.url"),
                          ErrorAt("required", "Bundle.entry[0].resource")));
}

TEST(FhirBundleTest, RequestUrlMustAddressTheResource) {
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"resource":{"resourceType":"Basic"},
      "request":{"method":"POST","url":"Patient"}})"})),
              ElementsAre(ErrorAt("value", "Bundle.entry[0].request.url")));
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"resource":{"resourceType":"Basic","id":"a"},
      "request":{"method":"PUT","url":"Basic/b"}})"})),
              ElementsAre(ErrorAt("value", "Bundle.entry[0].resource.id")));
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"resource":{"resourceType":"Basic"},
      "request":{"method":"PUT","url":"Basic/b"}})"})),
              ElementsAre(ErrorAt("required", "Bundle.entry[0].resource.id")));
  EXPECT_THAT(ReadBundle(Bundle("transaction", {R"({"resource":{"resourceType":"Basic","id":"b"},
      "request":{"method":"PUT","url":"/Basic/b"}})",
                                                R"({"resource":{"resourceType":"Basic"},
      "request":{"method":"PUT","url":"Basic?identifier=x|1"}})"}),
                         nullptr),
              IsOk());
}

TEST(FhirBundleTest, EntryResourceErrorsCarryTheEntryPath) {
  EXPECT_THAT(Errors(Bundle("transaction", {kPatientEntry, R"({"resource":{
      "resourceType":"Observation","code":{"text":"x"}},
      "request":{"method":"POST","url":"Observation"}})"})),
              ElementsAre(ErrorAt("required", "Bundle.entry[1].resource.status")));
}

TEST(FhirBundleTest, DuplicateFullUrlBreaksTheBundle) {
  EXPECT_THAT(Errors(Bundle("batch", {kPatientEntry, kPatientEntry})),
              ElementsAre(ErrorAt("invariant", "Bundle.entry[1].fullUrl")));
}

TEST(FhirBundleTest, BadBundleIdDoesNotStopTheEntryChecks) {
  EXPECT_THAT(
      Errors(R"({"resourceType":"Bundle","id":"no way","type":"transaction","entry":[
      {"resource":{"resourceType":"Basic"}}]})"),
      ElementsAre(ErrorAt("value", "Bundle.id"), ErrorAt("required", "Bundle.entry[0].request")));
}

TEST(FhirBundleTest, BatchRefusesOnlyTheBadEntries) {
  std::vector<Issue> issues;
  auto bundle =
      ReadBundle(Bundle("batch", {kPatientEntry, ObservationEntry("urn:uuid:not-there"),
                                  R"({"request":{"method":"DELETE","url":"Patient/1"}})"}),
                 &issues);
  ASSERT_THAT(bundle, IsOk());
  EXPECT_EQ(bundle->type, BundleType::kBatch);
  ASSERT_EQ(bundle->entries.size(), 3u);
  EXPECT_THAT(bundle->entries[0].status, IsOk());
  EXPECT_THAT(bundle->entries[1].status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bundle->entries[1].issues,
              ElementsAre(ErrorAt("not-found", "Bundle.entry[1].resource.subject.reference")));
  EXPECT_THAT(bundle->entries[2].issues,
              ElementsAre(ErrorAt("not-supported", "Bundle.entry[2].request.method")));
  EXPECT_EQ(issues.size(), 2u);  // The call's list holds the entries' issues too.
}

TEST(FhirBundleTest, EmptyTransactionIsValid) {
  auto bundle = ReadBundle(R"({"resourceType":"Bundle","id":"t1","type":"transaction"})", nullptr);
  ASSERT_THAT(bundle, IsOk());
  EXPECT_EQ(bundle->id, "t1");
  EXPECT_THAT(bundle->entries, IsEmpty());
  EXPECT_THAT(Errors(R"({"resourceType":"Bundle","type":"transaction","entry":{}})"),
              ElementsAre(ErrorAt("structure", "Bundle.entry")));
}

TEST(FhirBundleTest, EntryTextKeepsDecimalsAsSent) {
  auto bundle = ReadBundle(R"({"resourceType": "Bundle", "type": "batch", "entry": [
      {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "k"},
                    "valueQuantity": {"value": 4.10, "unit": "mmol/L"}},
       "request": {"method": "POST", "url": "Observation"}}]})",
                           nullptr);
  ASSERT_THAT(bundle, IsOk());
  EXPECT_EQ(
      bundle->entries[0].resource.json,
      R"({"resourceType":"Observation","status":"final","code":{"text":"k"},"valueQuantity":{"value":4.10,"unit":"mmol/L"}})");
}

TEST(FhirBundleTest, ReferencesInsideANestedBundleAreItsOwn) {
  // A document stored through a transaction: its urn:uuid references point at its own entries.
  auto bundle = ReadBundle(Bundle("transaction", {R"({"resource":{"resourceType":"Bundle",
      "type":"document","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Basic",
      "subject":{"reference":"urn:uuid:b"}}}]},"request":{"method":"POST","url":"Bundle"}})"}),
                           nullptr);
  EXPECT_THAT(bundle, IsOk());
}

TEST(FhirBundleTest, ReferencesInContainedResourcesAreResolved) {
  EXPECT_THAT(Errors(Bundle("transaction", {R"({"resource":{"resourceType":"Basic",
      "contained":[{"resourceType":"Provenance","target":[{"reference":"urn:uuid:zz"}]}]},
      "request":{"method":"POST","url":"Basic"}})"})),
              ElementsAre(ErrorAt("not-found",
                                  "Bundle.entry[0].resource.contained[0].target[0].reference")));
}

TEST(FhirBundleTest, InvalidJsonInABundle) {
  const auto errors = Errors(R"({"resourceType":"Bundle","type":"batch","entry":[}])");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "structure");
  EXPECT_THAT(errors[0].diagnostics, ::testing::HasSubstr("character offset 49 "));
}

}  // namespace
}  // namespace eds::ingest::fhir
