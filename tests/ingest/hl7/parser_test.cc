// The parser's envelope: segment ends, character sets, versions, limits, and the location and
// table 0357 code of every refusal.
#include "ingest/hl7/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testing/status_matchers.h"

namespace eds::ingest::hl7 {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

std::string Msh(std::string_view charset = "", std::string_view version = "2.5") {
  std::string msh = "MSH|^~\\&|APP|FAC|RCV|RFAC|20250101120000||ADT^A01^ADT_A01|C1|P|";
  msh += version;
  if (!charset.empty()) msh += "||||||" + std::string(charset);
  return msh;
}

Hl7Error ErrorOf(std::string_view raw, const Hl7ParseOptions& options = {}) {
  Hl7ParseResult result = ParseHl7Detailed(raw, options);
  EXPECT_FALSE(result.ok()) << "parsed: " << std::string(raw.substr(0, 80));
  return result.error;
}

void ExpectError(const Hl7Error& e, std::string_view segment, int sequence, int field,
                 Hl7ErrorCode code) {
  EXPECT_EQ(e.segment, segment) << e.ToString();
  EXPECT_EQ(e.sequence, sequence) << e.ToString();
  EXPECT_EQ(e.field, field) << e.ToString();
  EXPECT_EQ(e.code, code) << e.ToString();
}

TEST(Hl7ParserTest, SegmentsMayEndWithCrOrLfOrCrLf) {
  for (const char* sep : {"\r", "\n", "\r\n"}) {
    const std::string raw = Msh() + sep + "PID|1||X" + sep + "PV1|1|I" + sep;
    Result<Hl7Message> msg = ParseHl7(raw);
    ASSERT_THAT(msg, IsOk());
    ASSERT_EQ(msg->segments().size(), 3u);
    EXPECT_EQ(msg->Get("PID-3"), "X");
    EXPECT_EQ(msg->Get("PV1-2"), "I");
  }
}

TEST(Hl7ParserTest, ByteOrderMarkBlankLinesAndMissingFinalTerminatorAreTolerated) {
  const std::string raw = "\xEF\xBB\xBF\r\n" + Msh() + "\n\n  \nPID|1||X\r\n\r\nPV1";
  Result<Hl7Message> msg = ParseHl7(raw);
  ASSERT_THAT(msg, IsOk());
  ASSERT_EQ(msg->segments().size(), 3u);
  EXPECT_EQ(msg->segments()[2].name(), "PV1");
  EXPECT_EQ(msg->segments()[2].field_count(), 0);
}

TEST(Hl7ParserTest, Latin1IsConvertedToUtf8) {
  const std::string raw = Msh("8859/1") + "\rPID|1||X||GR\xC9GOIRE^Lo\xEF\x63\x20\\XE9\\\r";
  Result<Hl7Message> msg = ParseHl7(raw);
  ASSERT_THAT(msg, IsOk());
  EXPECT_EQ(msg->charset(), "8859/1");
  EXPECT_EQ(msg->Get("PID-5.1"), "GR\xC3\x89GOIRE");  // GRÉGOIRE
  EXPECT_EQ(msg->Get("PID-5.2"),
            "Lo\xC3\xAF"
            "c \xC3\xA9");  // Loïc é
}

TEST(Hl7ParserTest, Utf8PassesThroughWhenDeclaredOrUndeclared) {
  for (const char* charset : {"", "ASCII", "UNICODE UTF-8", "UTF-8", " unicode utf-8 "}) {
    const std::string raw = Msh(charset) + "\rPID|1||X||H\xC3\xA9l\xC3\xA8ne\r";
    Result<Hl7Message> msg = ParseHl7(raw);
    ASSERT_THAT(msg, IsOk()) << charset;
    EXPECT_EQ(msg->Get("PID-5"), "H\xC3\xA9l\xC3\xA8ne") << charset;
  }
}

TEST(Hl7ParserTest, InvalidUtf8IsADataTypeErrorAtItsComponent) {
  for (const char* charset : {"", "UNICODE UTF-8"}) {
    const Hl7Error e = ErrorOf(Msh(charset) + "\rPID|1||X||DOE^H\xE9l\xE8ne\r");
    ExpectError(e, "PID", 1, 5, Hl7ErrorCode::kDataTypeError);
    EXPECT_EQ(e.component, 2);
  }
  // Overlong form, surrogate and truncated sequence.
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xE2\x82"}) {
    ExpectError(ErrorOf(Msh("UNICODE UTF-8") + "\rNTE|1||" + bad + "\r"), "NTE", 1, 3,
                Hl7ErrorCode::kDataTypeError);
  }
}

TEST(Hl7ParserTest, UnsupportedCharsetIsRefusedAtMsh18) {
  for (const char* charset : {"8859/15", "UNICODE", "ISO IR87", "UNICODE UTF-16"}) {
    const Hl7Error e = ErrorOf(Msh(charset) + "\rPID|1\r");
    ExpectError(e, "MSH", 1, 18, Hl7ErrorCode::kTableValueNotFound);
  }
  EXPECT_THAT(ParseHl7(Msh("8859/15")), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Hl7ParserTest, EmptyInputAndMissingMshAreSegmentSequenceErrors) {
  ExpectError(ErrorOf(""), "MSH", 1, 0, Hl7ErrorCode::kSegmentSequenceError);
  ExpectError(ErrorOf("\r\n  \r"), "MSH", 1, 0, Hl7ErrorCode::kSegmentSequenceError);
  ExpectError(ErrorOf("PID|1||X\r" + Msh()), "MSH", 1, 0, Hl7ErrorCode::kSegmentSequenceError);
  ExpectError(ErrorOf("msh|^~\\&|A"), "MSH", 1, 0, Hl7ErrorCode::kSegmentSequenceError);
}

TEST(Hl7ParserTest, BinaryGarbageIsRefused) {
  const std::string garbage("\x00\x0b\xff\xfeMSH\x1c\x0d", 10);
  ExpectError(ErrorOf(garbage), "MSH", 1, 0, Hl7ErrorCode::kSegmentSequenceError);
  ExpectError(ErrorOf(std::string("MSH\x01^~\\&", 8)), "MSH", 1, 1, Hl7ErrorCode::kDataTypeError);
  ExpectError(ErrorOf("MSH|\xC3\xA9~\\&|"), "MSH", 1, 2, Hl7ErrorCode::kDataTypeError);
}

TEST(Hl7ParserTest, TruncatedMshNamesTheMissingField) {
  ExpectError(ErrorOf("MSH"), "MSH", 1, 1, Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH\r"), "MSH", 1, 1, Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH|"), "MSH", 1, 2, Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH||A|B"), "MSH", 1, 2, Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH|^~\\&"), "MSH", 1, 9, Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH|^~\\&|APP|FAC|RCV|RFAC|2025||ADT^A01"), "MSH", 1, 10,
              Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH|^~\\&|APP|FAC|RCV|RFAC|2025||ADT^A01|C1"), "MSH", 1, 11,
              Hl7ErrorCode::kRequiredFieldMissing);
  ExpectError(ErrorOf("MSH|^~\\&|APP|FAC|RCV|RFAC|2025||ADT^A01|C1|P|\rPID|1"), "MSH", 1, 12,
              Hl7ErrorCode::kRequiredFieldMissing);
}

TEST(Hl7ParserTest, BadEncodingCharactersAreDataTypeErrors) {
  for (const char* raw : {"MSHA^~\\&|", "MSH ^~\\&|", "MSH|^^\\&|", "MSH|^~\\&|^|x", "MSH|^~\\&$%|",
                          "MSH|^~a&|", "MSH|^|\\&"}) {
    const Hl7Error e = ErrorOf(raw);
    EXPECT_EQ(e.segment, "MSH") << raw;
    EXPECT_TRUE(e.code == Hl7ErrorCode::kDataTypeError ||
                e.code == Hl7ErrorCode::kRequiredFieldMissing)
        << raw << ": " << e.ToString();
  }
  ExpectError(ErrorOf("MSH|^~\\&$%|"), "MSH", 1, 2, Hl7ErrorCode::kDataTypeError);
  ExpectError(ErrorOf("MSH|^~|&|"), "MSH", 1, 9, Hl7ErrorCode::kRequiredFieldMissing);
}

TEST(Hl7ParserTest, VersionsFrom23OnAreAccepted) {
  for (const char* v :
       {"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7.1", "2.8", "2.9", "2.5^FRA^2.11"}) {
    EXPECT_THAT(ParseHl7(Msh("", v)), IsOk()) << v;
  }
  for (const char* v : {"2.1", "2.2", "3.0", "2.", "2.5.", "25", "2.5 ", "v2.5", "2.x"}) {
    ExpectError(ErrorOf(Msh("", v)), "MSH", 1, 12, Hl7ErrorCode::kUnsupportedVersionId);
  }
  EXPECT_TRUE(IsSupportedVersion("2.10"));
  EXPECT_FALSE(IsSupportedVersion(""));
}

TEST(Hl7ParserTest, InvalidSegmentIdsAreRefusedWithTheirPosition) {
  for (const char* seg : {"pid|1", "PI|1", "PIDX|1", "1ID|1", " PID|1", "PID^1", "\x01QQ|"}) {
    const Hl7Error e = ErrorOf(Msh() + "\rEVN|A01\r" + seg + "\r");
    EXPECT_EQ(e.code, Hl7ErrorCode::kSegmentSequenceError) << seg;
    EXPECT_NE(e.message.find("segment 3"), std::string::npos) << e.message;
  }
}

TEST(Hl7ParserTest, SecondMshIsRefused) {
  ExpectError(ErrorOf(Msh() + "\rPID|1\r" + Msh() + "\r"), "MSH", 2, 0,
              Hl7ErrorCode::kSegmentSequenceError);
}

TEST(Hl7ParserTest, LimitsBoundSegmentsFieldsAndValues) {
  std::string raw = Msh() + "\r";
  for (int i = 0; i < 10; ++i) raw += "NTE|" + std::to_string(i) + "|a^b^c~d&e\r";
  EXPECT_THAT(ParseHl7(raw), IsOk());

  Hl7ParseOptions options;
  options.max_segments = 5;
  EXPECT_EQ(ErrorOf(raw, options).code, Hl7ErrorCode::kApplicationInternalError);

  options = {};
  options.max_fields_per_segment = 12;  // MSH-1 to MSH-12 fit
  ExpectError(ErrorOf(Msh() + "\rNTE|1|2|3|4|5|6|7|8|9|10|11|12|13\r", options), "NTE", 1, 13,
              Hl7ErrorCode::kApplicationInternalError);

  options = {};
  options.max_values = 40;
  const Hl7Error e = ErrorOf(raw, options);
  EXPECT_EQ(e.code, Hl7ErrorCode::kApplicationInternalError);
  EXPECT_EQ(e.segment, "NTE");
}

TEST(Hl7ParserTest, ParseHl7ExplainsTheErrorInItsStatus) {
  const Result<Hl7Message> msg = ParseHl7(Msh() + "\rPID|1||X||\xFF\r");
  ASSERT_THAT(msg, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(msg.status().message().find("PID(1)-5.1"), std::string::npos) << msg.status().message();
  EXPECT_NE(msg.status().message().find("(102)"), std::string::npos);
}

TEST(Hl7ParserTest, ErrorToStringNamesLocationCodeAndDetail) {
  const Hl7Error e{"PID", 1, 3, 2, Hl7ErrorCode::kRequiredFieldMissing, "identifier missing"};
  EXPECT_EQ(e.ToString(), "PID(1)-3.2: Required field missing (101): identifier missing");
  EXPECT_EQ(Hl7Error{}.ToString(), "Application internal error (207)");
}

TEST(Hl7ParserTest, LargeValuesParse) {
  const std::string big(1 << 20, 'A');
  Result<Hl7Message> msg = ParseHl7(Msh() + "\rOBX|1|ED|X||^TEXT^^Base64^" + big + "\r");
  ASSERT_THAT(msg, IsOk());
  EXPECT_EQ(msg->Get("OBX-5.5").size(), big.size());
}

}  // namespace
}  // namespace eds::ingest::hl7
