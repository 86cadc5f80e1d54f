// HL7 v2 to FHIR R4: the elements each segment maps to, on the committed fixtures and on small
// messages written here, and every mapped resource read back by the FHIR reader without an issue.
#include "ingest/v2_to_fhir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ingest/fhir/reader.h"
#include "ingest/hl7/parser.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest {
namespace {

using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using nlohmann::json;

constexpr char kPatientId[] = "0123456789abcdef0123456789abcdef";
constexpr char kOffset[] = "+01:00";

struct Mapped {
  V2Mapping mapping;
  std::vector<json> resources;  // parsed, in the mapping's order
};

Mapped Map(const std::string& raw) {
  auto message = hl7::ParseHl7(raw);
  EXPECT_TRUE(message.ok()) << message.status().ToString();
  hl7::Hl7Error error;
  auto mapping = MapV2ToFhir(*message, kPatientId, kOffset, &error);
  EXPECT_TRUE(mapping.ok()) << error.ToString();
  Mapped out{std::move(*mapping), {}};
  for (const auto& r : out.mapping.resources) out.resources.push_back(json::parse(r.json));
  return out;
}

std::string PamFixture(const std::string& name) {
  return ReadFileOrDie(SourcePath("tests/data/hl7/pam-fr/" + name));
}

std::string Msh(const std::string& type, const std::string& control_id) {
  return "MSH|^~\\&|LAB|HOSP|EDS|HOSP|20250301101500||" + type + "|" + control_id +
         "|P|2.5|||AL|NE||UNICODE UTF-8\r";
}

constexpr char kPid[] = "PID|1||778899^^^HOSP&2.999.1&ISO^PI||DOE^JANE||19700102|F\r";

TEST(V2ToFhirTest, AdmissionMapsPidToPatientAndPv1ToEncounter) {
  const Mapped m = Map(PamFixture("adt_a01_ins.hl7"));
  ASSERT_EQ(m.resources.size(), 2u);
  ASSERT_EQ(m.mapping.identifiers.size(), 2u);
  EXPECT_EQ(m.mapping.identifiers[1].system, "1.2.250.1.213.1.4.8");
  EXPECT_EQ(m.mapping.identifiers[1].value, "285022505604263");

  const json& p = m.resources[0];
  EXPECT_EQ(m.mapping.resources[0].type, "Patient");
  EXPECT_EQ(p["resourceType"], "Patient");
  EXPECT_EQ(p["id"], kPatientId);
  EXPECT_EQ(p["identifier"][0]["system"], "urn:oid:2.999.250.1");
  EXPECT_EQ(p["identifier"][0]["value"], "0012345678");
  EXPECT_EQ(p["identifier"][0]["type"]["coding"][0]["code"], "PI");
  EXPECT_EQ(p["identifier"][1]["system"], "urn:oid:1.2.250.1.213.1.4.8");
  EXPECT_EQ(p["identifier"][1]["type"]["coding"][0]["code"], "INS");
  ASSERT_EQ(p["name"].size(), 2u);
  EXPECT_EQ(p["name"][0]["family"], "LEFÈVRE");
  EXPECT_EQ(p["name"][0]["given"], json({"Élodie", "Élodie Anne"}));
  EXPECT_EQ(p["name"][0]["use"], "official");
  EXPECT_EQ(p["name"][1]["family"], "MARTIN");
  EXPECT_EQ(p["name"][1]["use"], "usual");
  EXPECT_EQ(p["gender"], "female");
  EXPECT_EQ(p["birthDate"], "1985-02-14");
  EXPECT_EQ(p["address"][0]["line"], json({"12 rue des Lilas"}));
  EXPECT_EQ(p["address"][0]["city"], "Besançon");
  EXPECT_EQ(p["address"][0]["postalCode"], "25000");
  EXPECT_EQ(p["address"][0]["country"], "FRA");
  EXPECT_FALSE(p.contains("deceasedDateTime"));

  const json& e = m.resources[1];
  EXPECT_EQ(e["resourceType"], "Encounter");
  EXPECT_EQ(e["id"], m.mapping.resources[1].id);
  EXPECT_EQ(e["id"].get<std::string>().rfind(std::string(kPatientId).substr(0, 16) + "-v", 0), 0u);
  EXPECT_EQ(e["status"], "in-progress");
  EXPECT_EQ(e["class"]["code"], "IMP");
  EXPECT_EQ(e["class"]["system"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  EXPECT_EQ(e["subject"]["reference"], std::string("Patient/") + kPatientId);
  EXPECT_EQ(e["period"]["start"], "2025-01-10T08:30:00+01:00");
  EXPECT_FALSE(e["period"].contains("end"));
  // ZBE-7.10, the medical responsibility unit, wins over PV1-3.
  EXPECT_EQ(e["location"][0]["location"]["display"], "3201");
}

TEST(V2ToFhirTest, TheSameVisitGivesTheSameEncounterAndADischargeEndsIt) {
  const std::string pv1 =
      "PV1|1|E|URG^1||||||||||||||||V-42|||||||||||||||||01||||||||"
      "20250301090000|20250301120000+0200\r";
  const Mapped admit = Map(Msh("ADT^A01", "C1") + kPid + pv1);
  const Mapped discharge = Map(Msh("ADT^A03", "C2") + kPid + pv1);
  ASSERT_EQ(admit.resources.size(), 2u);
  ASSERT_EQ(discharge.resources.size(), 2u);
  EXPECT_EQ(admit.mapping.resources[1].id, discharge.mapping.resources[1].id);
  const json& e = discharge.resources[1];
  EXPECT_EQ(e["status"], "finished");
  EXPECT_EQ(e["class"]["code"], "EMER");
  EXPECT_EQ(e["period"]["start"], "2025-03-01T09:00:00+01:00");
  EXPECT_EQ(e["period"]["end"], "2025-03-01T12:00:00+02:00");
  EXPECT_EQ(e["location"][0]["location"]["display"], "URG");
  EXPECT_EQ(e["hospitalization"]["dischargeDisposition"]["coding"][0]["code"], "01");
}

TEST(V2ToFhirTest, ResultsMapObxToObservationsAndObrToAReportOfThem) {
  const Mapped m = Map(PamFixture("oru_r01_biologie.hl7"));
  ASSERT_EQ(m.resources.size(), 5u);  // Patient, three Observations, one DiagnosticReport
  const json& o = m.resources[1];
  EXPECT_EQ(o["resourceType"], "Observation");
  EXPECT_EQ(o["status"], "final");
  EXPECT_EQ(o["code"]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(o["code"]["coding"][0]["code"], "2345-7");
  EXPECT_EQ(o["code"]["coding"][0]["display"], "Glucose [Masse/Volume] Sérum");
  EXPECT_EQ(o["valueQuantity"]["value"], 0.95);
  EXPECT_EQ(o["valueQuantity"]["unit"], "g/L");
  EXPECT_EQ(o["valueQuantity"]["code"], "g/L");
  EXPECT_EQ(o["valueQuantity"]["system"], "http://unitsofmeasure.org");
  EXPECT_EQ(o["referenceRange"][0]["text"], "0.70-1.10");
  EXPECT_EQ(o["interpretation"][0]["coding"][0]["code"], "N");
  // No OBX-14: the OBR-7 observation time.
  EXPECT_EQ(o["effectiveDateTime"], "2025-01-14T06:30:00+01:00");
  EXPECT_EQ(m.resources[3]["valueQuantity"]["value"], 5.8);
  EXPECT_EQ(m.resources[3]["interpretation"][0]["coding"][0]["code"], "H");

  const json& d = m.resources[4];
  EXPECT_EQ(d["resourceType"], "DiagnosticReport");
  EXPECT_EQ(d["status"], "final");
  EXPECT_EQ(d["code"]["coding"][0]["code"], "24323-8");
  EXPECT_EQ(d["effectiveDateTime"], "2025-01-14T06:30:00+01:00");
  ASSERT_EQ(d["result"].size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d["result"][i]["reference"], "Observation/" + m.mapping.resources[i + 1].id);
  }
}

TEST(V2ToFhirTest, ValueTypesBecomeQuantityCodeableConceptOrString) {
  const Mapped m = Map(Msh("ORU^R01", "C3") + kPid +
                       "OBR|1|||PANEL^Panel^L|||20250301080000\r"
                       "OBX|1|SN|1554-5^GLUCOSE^LN||^182|mg/dl|70_105|H|||F\r"
                       "OBX|2|CWE|883-9^ABO group^LN||A^Group A^L||||||P\r"
                       "OBX|3|ST|8251-1^Note^LN||say \"hi\" \\E\\ back||||||F|||20250301073000\r"
                       "OBX|4|NM|8867-4^Heart rate^LN||72.50|/min^^UCUM|||||D\r"
                       "OBX|5|SN|2160-0^Creatinine^LN||<^0.5|mg/dL\r"
                       "OBX|6|SN|5803-2^pH^LN||^5^-^6.5\r"
                       "OBX|7|SN|5048-4^ANA titer^LN||^1^:^128\r"
                       "OBX|8|NM|2345-7^Glucose^LN||+.95|g/L\r");
  ASSERT_EQ(m.resources.size(), 10u);
  EXPECT_EQ(m.resources[1]["valueQuantity"]["value"], 182);
  EXPECT_EQ(m.resources[1]["valueQuantity"]["unit"], "mg/dl");
  EXPECT_FALSE(m.resources[1]["valueQuantity"].contains("comparator"));
  EXPECT_EQ(m.resources[2]["valueCodeableConcept"]["coding"][0]["code"], "A");
  EXPECT_EQ(m.resources[2]["valueCodeableConcept"]["coding"][0]["system"],
            "urn:hl7v2:codesystem:L");
  EXPECT_EQ(m.resources[2]["valueCodeableConcept"]["text"], "Group A");
  EXPECT_EQ(m.resources[2]["status"], "preliminary");
  // Quotes and backslashes survive as text.
  EXPECT_EQ(m.resources[3]["valueString"], "say \"hi\" \\ back");
  EXPECT_EQ(m.resources[3]["effectiveDateTime"], "2025-03-01T07:30:00+01:00");
  EXPECT_EQ(m.resources[4]["valueQuantity"]["value"], 72.5);
  EXPECT_EQ(m.resources[4]["status"], "entered-in-error");
  // The decimal keeps the digits sent.
  EXPECT_NE(m.mapping.resources[4].json.find("\"value\":72.50"), std::string::npos);
  EXPECT_EQ(m.resources[5]["valueQuantity"]["value"], 0.5);
  EXPECT_EQ(m.resources[5]["valueQuantity"]["comparator"], "<");
  EXPECT_EQ(m.resources[6]["valueRange"]["low"]["value"], 5);
  EXPECT_EQ(m.resources[6]["valueRange"]["high"]["value"], 6.5);
  EXPECT_EQ(m.resources[7]["valueRatio"]["numerator"]["value"], 1);
  EXPECT_EQ(m.resources[7]["valueRatio"]["denominator"]["value"], 128);
  EXPECT_EQ(m.resources[8]["valueQuantity"]["value"], 0.95);
  // An OBR code in a local system keeps its code and display.
  EXPECT_EQ(m.resources[9]["code"]["coding"][0]["code"], "PANEL");
  EXPECT_EQ(m.resources[9]["code"]["coding"][0]["system"], "urn:hl7v2:codesystem:L");
  for (const auto& r : m.mapping.resources) {
    std::vector<fhir::Issue> issues;
    EXPECT_TRUE(fhir::ReadResource(r.json, &issues).ok()) << r.json;
    EXPECT_TRUE(issues.empty()) << r.json;
  }
}

TEST(V2ToFhirTest, ALongOrUnusualControlIdStillGivesValidStableIds) {
  const std::string obx = "OBX|1|NM|2345-7^Glucose^LN||5.1|mmol/L\r";
  for (const std::string& control_id :
       {std::string("2.16.840.1.114222.4.3.3.5.1.2-20120314235954.325"), std::string("A B/C")}) {
    const Mapped first = Map(Msh("ORU^R01", control_id) + kPid + obx);
    const Mapped again = Map(Msh("ORU^R01", control_id) + kPid + obx);
    ASSERT_EQ(first.resources.size(), 2u);
    EXPECT_EQ(first.mapping.resources[1].id, again.mapping.resources[1].id);
    std::vector<fhir::Issue> issues;
    EXPECT_TRUE(fhir::ReadResource(first.mapping.resources[1].json, &issues).ok())
        << first.mapping.resources[1].json;
  }
  // A short plain one is kept, so the id says which message it came from.
  EXPECT_EQ(Map(Msh("ORU^R01", "LAB-42") + kPid + obx).mapping.resources[1].id,
            std::string(kPatientId).substr(0, 16) + "-LAB-42-obx1");
}

TEST(V2ToFhirTest, ContentTheMappingNeedsAndLacksIsAnErrorNamingTheField) {
  struct Case {
    std::string message;
    std::string segment;
    int field;
  };
  const std::vector<Case> cases = {
      {Msh("ADT^A01", "E1") + "EVN||20250301\r", "PID", 0},
      {Msh("ADT^A01", "E2") + "PID|1||^^^HOSP^PI||DOE^JANE\r", "PID", 3},
      {Msh("ADT^A40", "E3") + kPid + "MRG|\r", "MRG", 1},
      {Msh("ORU^R01", "E4") + kPid + "OBX|1|NM|||12\r", "OBX", 3},
      {Msh("ORU^R01", "E5") + kPid + "OBX|1|NM|2345-7^Glucose^LN||twelve\r", "OBX", 5},
      {Msh("ORU^R01", "E6") + kPid + "OBX|1|NM|2345-7^Glucose^LN||1e5\r", "OBX", 5},
      {Msh("ORU^R01", "E7") + kPid + "OBX|1|NM|2345-7^Glucose^LN||inf\r", "OBX", 5},
      {Msh("ORU^R01", "E8") + kPid + "OBX|1|SN|2345-7^Glucose^LN||<>^5\r", "OBX", 5},
      {Msh("ORU^R01", "E9") + kPid + "OBX|1|SN|2345-7^Glucose^LN||^1^*^2\r", "OBX", 5},
  };
  for (const auto& c : cases) {
    auto message = hl7::ParseHl7(c.message);
    ASSERT_TRUE(message.ok()) << c.message;
    hl7::Hl7Error error;
    auto mapping = MapV2ToFhir(*message, kPatientId, kOffset, &error);
    EXPECT_FALSE(mapping.ok()) << c.message;
    EXPECT_EQ(error.segment, c.segment) << c.message;
    EXPECT_EQ(error.field, c.field) << c.message;
  }
}

TEST(V2ToFhirTest, AMergeNamesTheMergedIdentifiers) {
  const Mapped m = Map(PamFixture("adt_a40_merge.hl7"));
  ASSERT_EQ(m.mapping.merged_identifiers.size(), 1u);
  EXPECT_EQ(m.mapping.merged_identifiers[0].value, "0012349999");
  EXPECT_EQ(m.mapping.merged_identifiers[0].system, "2.999.250.1");
  EXPECT_EQ(m.mapping.merged_identifiers[0].type, "PI");
}

TEST(V2ToFhirTest, DeathAndTimestampsFollowTheFhirFormats) {
  const Mapped m =
      Map(Msh("ADT^A08", "D1") + "PID|1||778899^^^HOSP&2.999.1&ISO^PI||DOE^JANE||19700102|F" +
          std::string(21, '|') + "202503011015\r");
  EXPECT_EQ(m.resources[0]["deceasedDateTime"], "2025-03-01T10:15:00+01:00");
  EXPECT_EQ(V2TimestampToFhir("2025", kOffset), "2025");
  EXPECT_EQ(V2TimestampToFhir("202503", kOffset), "2025-03");
  EXPECT_EQ(V2TimestampToFhir("20250301101530.25-0500", kOffset), "2025-03-01T10:15:30.25-05:00");
  EXPECT_EQ(V2TimestampToFhir("2025030", kOffset), "");
  EXPECT_EQ(V2TimestampToFhir("2025-03-01", kOffset), "");
}

// Maps every .hl7/.er7 file under `dirs` and reads each mapped resource back with the FHIR
// reader: compact JSON it accepts without an issue, of the type and id the mapping names.
// Returns how many resources were checked.
size_t ExpectEveryMappedResourceValid(const std::vector<std::filesystem::path>& dirs) {
  size_t resources = 0;
  for (const auto& dir : dirs) {
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
      const auto ext = f.path().extension();
      if (!f.is_regular_file() || (ext != ".hl7" && ext != ".er7")) continue;
      auto message = hl7::ParseHl7(ReadFileOrDie(f.path()));
      EXPECT_TRUE(message.ok()) << f.path();
      if (!message.ok()) continue;
      hl7::Hl7Error error;
      auto mapping = MapV2ToFhir(*message, kPatientId, kOffset, &error);
      if (!mapping.ok()) continue;  // refusals are the ingest tests' business
      for (const auto& r : mapping->resources) {
        std::vector<fhir::Issue> issues;
        auto read = fhir::ReadResource(r.json, &issues);
        const std::string first_issue =
            issues.empty() ? ""
                           : issues[0].diagnostics + " at " +
                                 (issues[0].expression.empty() ? "" : issues[0].expression[0]);
        EXPECT_TRUE(read.ok()) << f.path() << ": " << first_issue << ": " << r.json;
        EXPECT_TRUE(issues.empty()) << f.path() << ": " << first_issue << ": " << r.json;
        if (!read.ok()) continue;
        EXPECT_EQ(read->resource_type, r.type);
        EXPECT_EQ(read->id, r.id);
        EXPECT_EQ(read->json, r.json) << "not compact: " << r.json;
        ++resources;
      }
    }
  }
  return resources;
}

TEST(V2ToFhirTest, EveryResourceMappedFromTheFixturesIsValidFhir) {
  EXPECT_GE(ExpectEveryMappedResourceValid({SourcePath("tests/data/hl7/pam-fr"),
                                            SourcePath("tests/data/hl7/microsoft-fhir-converter")}),
            12u);
}

TEST(V2ToFhirTest, EveryResourceMappedFromTheSharedMessagesIsValidFhir) {
  const std::filesystem::path root = ::eds::testing::SharedTestData();
  if (root.empty()) {
    std::cout << "shared test data absent: HL7 v2 mapping checked on the committed fixtures only\n";
    return;
  }
  EXPECT_GE(ExpectEveryMappedResourceValid(
                {root / "hl7v2/microsoft-fhir-converter", root / "hl7v2/ansforge-fr"}),
            200u);
}

}  // namespace
}  // namespace eds::ingest
