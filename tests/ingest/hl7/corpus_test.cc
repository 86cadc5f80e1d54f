// Real messages: the committed fixtures (tests/data/hl7) always, and every message of the shared
// test data (Microsoft FHIR-Converter samples, ANS French samples) when that folder is present.
// Each must parse, and its AA ACK must parse back.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "ingest/hl7/ack.h"
#include "ingest/hl7/parser.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest::hl7 {
namespace {

namespace fs = std::filesystem;
using ::eds::testing::IsOk;

std::vector<fs::path> MessageFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".hl7" || ext == ".er7")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Parses every file, builds its ACK and parses that back; returns how many files there were.
size_t ExpectAllParse(const fs::path& dir) {
  const std::vector<fs::path> files = MessageFiles(dir);
  for (const fs::path& file : files) {
    const std::string raw = eds::testing::ReadFileOrDie(file);
    Result<Hl7Message> msg = ParseHl7(raw);
    EXPECT_THAT(msg, IsOk()) << file;
    if (!msg.ok()) continue;
    const std::string ack = MakeAck(*msg, AckCode::kAccept, std::nullopt, "", {"A-1", "2025"});
    Result<Hl7Message> back = ParseHl7(ack);
    EXPECT_THAT(back, IsOk()) << file << " ACK: " << ack;
    if (back.ok()) {
      EXPECT_EQ(back->Get("MSA-2"), msg->control_id()) << file;
    }
  }
  return files.size();
}

Hl7Message ParseFile(const fs::path& file) {
  Result<Hl7Message> msg = ParseHl7(eds::testing::ReadFileOrDie(file));
  EXPECT_THAT(msg, IsOk()) << file;
  if (!msg.ok()) std::abort();
  return std::move(msg).value();
}

struct Expected {
  const char* file;
  const char* type;  // MSH-9.1^MSH-9.2
  const char* control_id;
  const char* first_identifier;  // PID-3.1
  const char* family_name;       // PID-5.1
};

void ExpectKnownValues(const fs::path& dir, const std::vector<Expected>& expected) {
  for (const Expected& e : expected) {
    const Hl7Message msg = ParseFile(dir / e.file);
    const MessageType type = msg.message_type();
    EXPECT_EQ(std::string(type.code) + "^" + std::string(type.trigger), e.type) << e.file;
    EXPECT_EQ(msg.control_id(), e.control_id) << e.file;
    EXPECT_EQ(msg.Get("PID-3"), e.first_identifier) << e.file;
    EXPECT_EQ(msg.Get("PID-5"), e.family_name) << e.file;
  }
}

fs::path Committed(const std::string& sub) {
  return eds::testing::SourcePath("tests/data/hl7/" + sub);
}

TEST(Hl7CorpusTest, CommittedFixturesAllParse) { EXPECT_GE(ExpectAllParse(Committed("")), 8u); }

TEST(Hl7CorpusTest, CommittedMicrosoftSamplesHaveTheirKnownValues) {
  ExpectKnownValues(
      Committed("microsoft-fhir-converter"),
      {{"ADT01-28.hl7", "ADT^A01", "MSG00001", "PATID1234", "EVERYMAN"},
       {"ADT-A40-01.hl7", "ADT^A40", "8919-40", "12345", "Test"},
       {"ORU-R01-RMGEAD.hl7", "ORU^R01", "CNTRL-3456", "555-44-4444", "EVERYWOMAN"},
       {"ADT04-23.hl7", "ADT^A04", "Q123456789T123456789X123456", "123456789", "BROS"}});
  const Hl7Message oru = ParseFile(Committed("microsoft-fhir-converter/ORU-R01-RMGEAD.hl7"));
  EXPECT_EQ(oru.version(), "2.4");
  EXPECT_EQ(oru.Get("OBX-5.2"), "182");
  EXPECT_EQ(oru.Get("OBX-3.2"), "GLUCOSE");
  const Hl7Message a40 = ParseFile(Committed("microsoft-fhir-converter/ADT-A40-01.hl7"));
  EXPECT_EQ(a40.Get("MRG-1"), "56789");
  EXPECT_TRUE(IsSupportedType(a40));
}

TEST(Hl7CorpusTest, FrenchAdmissionCarriesInsAndIpp) {
  const Hl7Message msg = ParseFile(Committed("pam-fr/adt_a01_ins.hl7"));
  EXPECT_EQ(msg.version(), "2.5");
  EXPECT_EQ(msg.Get("MSH-12.3"), "2.11");
  EXPECT_EQ(msg.charset(), "UNICODE UTF-8");
  EXPECT_EQ(msg.Get("PID-3(1).1"), "0012345678");
  EXPECT_EQ(msg.Get("PID-3(1).5"), "PI");
  EXPECT_EQ(msg.Get("PID-3(2).1"), "285022505604263");
  EXPECT_EQ(msg.Get("PID-3(2).4.1"), "ASIP-SANTE-INS-NIR");
  EXPECT_EQ(msg.Get("PID-3(2).4.2"), "1.2.250.1.213.1.4.8");
  EXPECT_EQ(msg.Get("PID-3(2).5"), "INS");
  EXPECT_EQ(msg.Get("PID-5.1"), "LEF\xC3\x88VRE");
  EXPECT_EQ(msg.Get("PID-5.2"), "\xC3\x89lodie");
  EXPECT_EQ(msg.Get("PID-5(2).1"), "MARTIN");
  EXPECT_EQ(msg.Get("PID-5(2).7"), "D");
  EXPECT_EQ(msg.Get("PID-11.2"), "B\xC3\xA2timent B & C");
  EXPECT_EQ(msg.Get("PID-32"), "VALI");
  EXPECT_EQ(msg.Get("PV1-7.3"), "Fran\xC3\xA7ois");
  EXPECT_EQ(msg.Get("ZBE-1"), "MVT-2025-0001");
  EXPECT_EQ(msg.Get("ZBE-4"), "INSERT");
  EXPECT_EQ(msg.Get("ZBE-7.10"), "3201");
  EXPECT_TRUE(IsSupportedType(msg));
}

TEST(Hl7CorpusTest, FrenchMergeNamesTheMergedPatient) {
  const Hl7Message msg = ParseFile(Committed("pam-fr/adt_a40_merge.hl7"));
  EXPECT_EQ(msg.message_type().structure, "ADT_A39");
  EXPECT_EQ(msg.Get("PID-3(2).1"), "285022505604263");
  EXPECT_EQ(msg.Get("MRG-1.1"), "0012349999");
  EXPECT_EQ(msg.Get("MRG-1.4.2"), "2.999.250.1");
  EXPECT_TRUE(IsSupportedType(msg));
}

TEST(Hl7CorpusTest, FrenchLatin1UpdateIsReadAsUtf8) {
  const Hl7Message msg = ParseFile(Committed("pam-fr/adt_a08_latin1.hl7"));
  EXPECT_EQ(msg.charset(), "8859/1");
  EXPECT_EQ(msg.Get("PID-5.1"), "G\xC3\x89RARD");
  EXPECT_EQ(msg.Get("PID-5.2"), "J\xC3\xA9r\xC3\xB4me");
  EXPECT_EQ(msg.Get("PID-11.1"), "3 place de l'\xC3\x89glise");
  EXPECT_EQ(msg.Get("PID-11.3"), "N\xC3\xAEmes");
}

TEST(Hl7CorpusTest, FrenchLabResultHasThreeObservations) {
  const Hl7Message msg = ParseFile(Committed("pam-fr/oru_r01_biologie.hl7"));
  EXPECT_EQ(msg.Segments("OBX").size(), 3u);
  EXPECT_EQ(msg.Get("OBX(2)-3.2"),
            "Cr\xC3\xA9"
            "atinine [Masse/Volume] S\xC3\xA9rum");
  EXPECT_EQ(msg.Get("OBX(3)-5"), "5.8");
  EXPECT_EQ(msg.Get("OBX(3)-8"), "H");
  EXPECT_EQ(msg.Get("NTE-3"),
            "H\xC3\xA9molyse l\xC3\xA9g\xC3\xA8re.\nContr\xC3\xB4le conseill\xC3\xA9 & "
            "\xC3\xA0 refaire sous 48 h.");
}

TEST(Hl7CorpusTest, SharedMicrosoftSamplesAllParse) {
  const fs::path root = eds::testing::SharedTestData();
  if (root.empty()) {
    std::cout << "shared test data absent: HL7 v2 committed fixtures only\n";
    return;
  }
  const fs::path dir = root / "hl7v2/microsoft-fhir-converter";
  EXPECT_GE(ExpectAllParse(dir), 100u);
  ExpectKnownValues(dir, {{"ADT-A01-01.hl7", "ADT^A01", "MSG00001", "PATID1234", "EVERYMAN"},
                          {"LAB-ORU-2.hl7", "ORU^R01", "ControlID", "10006579", "DUCK"},
                          {"ADT04-251.hl7", "ADT^A04", "1270326314", "MRN12345", "Doe"}});
  const Hl7Message a01 = ParseFile(dir / "ADT-A01-01.hl7");
  EXPECT_EQ(a01.Get("PID-5.1.5"), "Aniston");
  EXPECT_EQ(a01.Get("PV1-14"), "NHS Provider-General (inc.A&E-this Hosp)");  // \T\ resolved
}

TEST(Hl7CorpusTest, SharedFrenchSamplesAllParse) {
  const fs::path root = eds::testing::SharedTestData();
  if (root.empty()) {
    std::cout << "shared test data absent: HL7 v2 committed fixtures only\n";
    return;
  }
  const fs::path dir = root / "hl7v2/ansforge-fr";
  EXPECT_GE(ExpectAllParse(dir), 20u);
  const fs::path consent =
      dir /
      "Vague_2__Consentement_DMP_PAMFR__ConsentementConsultation_NonOppositionAlimentation.er7";
  ExpectKnownValues(dir, {{consent.filename().c_str(), "ADT^A01", "3975", "000003", "PAT-TROIS"}});
  const Hl7Message a01 = ParseFile(consent);
  EXPECT_EQ(a01.Get("PID-3(2).1"), "279035121518989");
  EXPECT_EQ(a01.Get("PID-3(2).4.2"), "1.2.250.1.213.1.4.10");
  EXPECT_EQ(a01.Get("PV1-7.2"),
            "R\xC3\xA9"
            "ault");
  EXPECT_EQ(a01.Get("ZBE-4"), "INSERT");
  const Hl7Message oru = ParseFile(dir / "Volets__TRANS_DOC_CDA_HL7V2__V1.2__ORU__message.hl7");
  EXPECT_EQ(oru.Get("PID-3"), "276037510669380");
  EXPECT_EQ(oru.Get("PID-3.4.2"), "1.2.250.1.213.1.4.8");
  EXPECT_EQ(oru.Get("PID-5"), "DE VINCI");
  EXPECT_EQ(oru.Segments("OBX").size(), 12u);
}

}  // namespace
}  // namespace eds::ingest::hl7
