// The parsed message model: HL7 paths, repetitions, components, sub-components, escapes and
// delimiters other than |^~\&.
#include "ingest/hl7/message.h"

#include <gtest/gtest.h>

#include <string>

#include "ingest/hl7/parser.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::hl7 {
namespace {

constexpr char kAdt[] =
    "MSH|^~\\&|SENDAPP|SENDFAC^1.2.3^ISO|RECVAPP|RECVFAC|20250101120000||ADT^A01^ADT_A01|CTRL-1|P|"
    "2.5.1\r"
    "EVN|A01|20250101120000\r"
    "PID|1||IPP-1^^^HOSP&1.2.250.99&ISO^PI~NIR-1^^^INS&1.2.250.1.213.1.4.8&ISO^INS||"
    "DOE^JANE^M~SMITH^JANE||19800101|F\r"
    "OBX|1|NM|A^First||1.5\r"
    "OBX|2|NM|B^Second||2.5\r"
    "OBX|3|ST|C^Third||three\r";

Hl7Message ParseOrDie(std::string_view raw) {
  Result<Hl7Message> parsed = ParseHl7(raw);
  EXPECT_THAT(parsed, testing::IsOk());
  if (!parsed.ok()) std::abort();
  return std::move(parsed).value();
}

TEST(Hl7MessageTest, MshFieldsAreNumberedAsInTheStandard) {
  const Hl7Message msg = ParseOrDie(kAdt);
  EXPECT_EQ(msg.Get("MSH-1"), "|");
  EXPECT_EQ(msg.Get("MSH-2"), "^~\\&");
  EXPECT_EQ(msg.Get("MSH-3"), "SENDAPP");
  EXPECT_EQ(msg.Get("MSH-4.2"), "1.2.3");
  EXPECT_EQ(msg.Get("MSH-9.1"), "ADT");
  EXPECT_EQ(msg.Get("MSH-9.2"), "A01");
  EXPECT_EQ(msg.Get("MSH-10"), "CTRL-1");
  EXPECT_EQ(msg.message_type().code, "ADT");
  EXPECT_EQ(msg.message_type().trigger, "A01");
  EXPECT_EQ(msg.message_type().structure, "ADT_A01");
  EXPECT_EQ(msg.control_id(), "CTRL-1");
  EXPECT_EQ(msg.processing_id(), "P");
  EXPECT_EQ(msg.version(), "2.5.1");
  EXPECT_EQ(msg.charset(), "");
}

TEST(Hl7MessageTest, PathsReachRepetitionsComponentsAndSubComponents) {
  const Hl7Message msg = ParseOrDie(kAdt);
  EXPECT_EQ(msg.Get("PID-3"), "IPP-1");
  EXPECT_EQ(msg.Get("PID-3.1"), "IPP-1");
  EXPECT_EQ(msg.Get("PID-3(2)"), "NIR-1");
  EXPECT_EQ(msg.Get("PID-3(2).1"), "NIR-1");
  EXPECT_EQ(msg.Get("PID-3(2).4"), "INS");
  EXPECT_EQ(msg.Get("PID-3(2).4.2"), "1.2.250.1.213.1.4.8");
  EXPECT_EQ(msg.Get("PID-3(2).5"), "INS");
  EXPECT_EQ(msg.Get("PID-5.1"), "DOE");
  EXPECT_EQ(msg.Get("PID-5(2).1"), "SMITH");
  EXPECT_EQ(msg.Get("PID-3-4-3"), "ISO");  // Terser-style dashes are accepted too
}

TEST(Hl7MessageTest, SegmentRepetitionsAreAddressedByIndex) {
  const Hl7Message msg = ParseOrDie(kAdt);
  EXPECT_EQ(msg.Get("OBX-5"), "1.5");
  EXPECT_EQ(msg.Get("OBX(2)-5"), "2.5");
  EXPECT_EQ(msg.Get("OBX(3)-5"), "three");
  EXPECT_EQ(msg.Get("OBX(3)-3.2"), "Third");
  const std::vector<const Segment*> obx = msg.Segments("OBX");
  ASSERT_EQ(obx.size(), 3u);
  EXPECT_EQ(obx[2]->sequence(), 3);
  EXPECT_EQ(obx[1]->Value(5), "2.5");
  EXPECT_EQ(msg.FindSegment("OBX", 3), obx[2]);
  EXPECT_EQ(msg.FindSegment("OBX", 4), nullptr);
  EXPECT_EQ(msg.segments().size(), 6u);
  EXPECT_EQ(msg.segments()[0].name(), "MSH");
}

TEST(Hl7MessageTest, AbsentOrMalformedPathsReadEmpty) {
  const Hl7Message msg = ParseOrDie(kAdt);
  for (const char* path :
       {"PID-99", "PID-3(3)", "PID-3.9", "PID-3.1.5", "OBX(4)-5", "ZZZ-1", "PID", "PID-", "PID-0",
        "PID-3(0)", "PID-3x", "-3", "", "PID-3..1", "PID-9999999", "PIDD-3", "PID(1-3"}) {
    EXPECT_EQ(msg.Get(path), "") << path;
  }
}

TEST(Hl7MessageTest, CountsDescribeTheStructure) {
  const Hl7Message msg = ParseOrDie(kAdt);
  const Segment* pid = msg.FindSegment("PID");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->field_count(), 8);
  EXPECT_EQ(pid->RepetitionCount(3), 2);
  EXPECT_EQ(pid->ComponentCount(3, 2), 5);
  EXPECT_EQ(pid->SubComponentCount(3, 2, 4), 3);
  EXPECT_EQ(pid->RepetitionCount(2), 1);  // an empty field is one empty repetition
  EXPECT_EQ(pid->RepetitionCount(9), 0);
}

TEST(Hl7MessageTest, EscapeSequencesAreResolved) {
  const Hl7Message msg = ParseOrDie(
      "MSH|^~\\&|A|B|C|D|20250101||ADT^A08|X1|P|2.5\r"
      "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|line1\\.br\\line2|\\XC3A9\\t\\X41\\|\\H\\bold\\N\\|"
      "\\Q\\kept|\\Xzz\\|tail\\|\\Cxxyy\\z\r");
  const Segment* nte = msg.FindSegment("NTE");
  ASSERT_NE(nte, nullptr);
  EXPECT_EQ(nte->Value(3), "a|b^c&d~e\\f");
  EXPECT_EQ(nte->Value(4), "line1\nline2");
  EXPECT_EQ(nte->Value(5), "\xC3\xA9tA");  // é, t, A
  EXPECT_EQ(nte->Value(6), "bold");
  EXPECT_EQ(nte->Value(7), "\\Q\\kept");  // unknown escapes stay as they were
  EXPECT_EQ(nte->Value(8), "\\Xzz\\");
  EXPECT_EQ(nte->Value(9), "tail\\");  // unterminated
  EXPECT_EQ(nte->Value(10), "\\Cxxyy\\z");
}

TEST(Hl7MessageTest, EncodeFieldEscapesWhatDecodingResolved) {
  const Hl7Message msg = ParseOrDie(
      "MSH|^~\\&|A|B|C|D|20250101||ADT^A08|X1|P|2.5\r"
      "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f^x&y~r2|l1\\.br\\l2\r");
  const Segment* nte = msg.FindSegment("NTE");
  ASSERT_NE(nte, nullptr);
  EXPECT_EQ(nte->EncodeField(3), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f^x&y~r2");
  EXPECT_EQ(nte->EncodeField(4), "l1\\X0A\\l2");
  EXPECT_EQ(msg.FindSegment("MSH")->EncodeField(2), "^~\\&");
}

TEST(Hl7MessageTest, OtherDelimitersAreTakenFromMsh) {
  const Hl7Message msg = ParseOrDie(
      "MSH#*!@%#APP#FAC#RCV#RFAC#20250101##ORU*R01*ORU_R01#C-9#P#2.4\r"
      "PID#1##ID1*X*Y*AUTH%1.2.3!ID2*A#|^~\\&\r"
      "OBX#1#ST#CODE*Text##a@F@b@S@c@R@d@T@e@E@f\r");
  EXPECT_EQ(msg.delimiters().field, '#');
  EXPECT_EQ(msg.delimiters().component, '*');
  EXPECT_EQ(msg.delimiters().repetition, '!');
  EXPECT_EQ(msg.delimiters().escape, '@');
  EXPECT_EQ(msg.delimiters().subcomponent, '%');
  EXPECT_EQ(msg.Get("MSH-1"), "#");
  EXPECT_EQ(msg.Get("MSH-2"), "*!@%");
  EXPECT_EQ(msg.message_type().trigger, "R01");
  EXPECT_EQ(msg.Get("PID-3.4.2"), "1.2.3");
  EXPECT_EQ(msg.Get("PID-3.1"), "ID1");
  EXPECT_EQ(msg.Get("PID-3(2).1"), "ID2");
  EXPECT_EQ(msg.Get("PID-4"), "|^~\\&");  // the usual delimiters are plain data here
  EXPECT_EQ(msg.Get("OBX-5"), "a#b*c!d%e@f");
}

TEST(Hl7MessageTest, FiveEncodingCharactersDeclareTruncationAsData) {
  const Hl7Message msg = ParseOrDie("MSH|^~\\&#|A|B|C|D|20250101||ADT^A01|X|P|2.7\rNTE|1||a#b\r");
  EXPECT_EQ(msg.delimiters().truncation, '#');
  EXPECT_EQ(msg.Get("MSH-2"), "^~\\&#");
  EXPECT_EQ(msg.Get("NTE-3"), "a#b");
}

TEST(Hl7MessageTest, ValuesOutliveMoves) {
  Hl7Message first = ParseOrDie(kAdt);
  const std::string_view family = first.Get("PID-5.1");
  const std::vector<const Segment*> obx = first.Segments("OBX");
  Hl7Message second = std::move(first);
  EXPECT_EQ(family, "DOE");
  EXPECT_EQ(obx[0]->Value(5), "1.5");
  EXPECT_EQ(second.Get("PID-5.1").data(), family.data());
}

}  // namespace
}  // namespace eds::ingest::hl7
