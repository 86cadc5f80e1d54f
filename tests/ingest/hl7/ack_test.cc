// ACK building: every ACK is parsed back with ParseHl7 and its fields checked.
#include "ingest/hl7/ack.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ingest/hl7/parser.h"
#include "tests/testing/status_matchers.h"

namespace eds::ingest::hl7 {
namespace {

using ::eds::testing::IsOk;

constexpr char kAdt[] =
    "MSH|^~\\&|SENDAPP|SENDFAC^1.2.3^ISO|RECVAPP|RECVFAC|20250101120000||ADT^A01^ADT_A01|CTRL-1|P|"
    "2.5.1\r"
    "PID|1||IPP-1^^^HOSP^PI||DOE^JANE\r";

const AckOptions kOptions{"ACK-7", "20250101120500"};

Hl7Message ParseOrDie(std::string_view raw) {
  Result<Hl7Message> parsed = ParseHl7(raw);
  EXPECT_THAT(parsed, IsOk()) << std::string(raw);
  if (!parsed.ok()) std::abort();
  return std::move(parsed).value();
}

TEST(Hl7AckTest, AcceptSwapsSenderAndReceiverAndEchoesTheControlId) {
  const Hl7Message original = ParseOrDie(kAdt);
  const std::string ack = MakeAck(original, AckCode::kAccept, std::nullopt, "", kOptions);
  EXPECT_EQ(
      ack,
      "MSH|^~\\&|RECVAPP|RECVFAC|SENDAPP|SENDFAC^1.2.3^ISO|20250101120500||ACK^A01^ACK|ACK-7|P|"
      "2.5.1\rMSA|AA|CTRL-1\r");
  const Hl7Message parsed = ParseOrDie(ack);
  EXPECT_EQ(parsed.Get("MSH-3"), "RECVAPP");
  EXPECT_EQ(parsed.Get("MSH-4"), "RECVFAC");
  EXPECT_EQ(parsed.Get("MSH-5"), "SENDAPP");
  EXPECT_EQ(parsed.Get("MSH-6.2"), "1.2.3");
  EXPECT_EQ(parsed.Get("MSH-7"), "20250101120500");
  EXPECT_EQ(parsed.message_type().code, "ACK");
  EXPECT_EQ(parsed.message_type().trigger, "A01");
  EXPECT_EQ(parsed.message_type().structure, "ACK");
  EXPECT_EQ(parsed.control_id(), "ACK-7");
  EXPECT_EQ(parsed.processing_id(), "P");
  EXPECT_EQ(parsed.version(), "2.5.1");
  EXPECT_EQ(parsed.Get("MSA-1"), "AA");
  EXPECT_EQ(parsed.Get("MSA-2"), "CTRL-1");
  EXPECT_EQ(parsed.FindSegment("ERR"), nullptr);
}

TEST(Hl7AckTest, ApplicationErrorNamesTheFieldInErr) {
  const Hl7Message original = ParseOrDie(kAdt);
  const Hl7Error error{
      "PID", 1, 3, 4, Hl7ErrorCode::kRequiredFieldMissing, "assigning authority missing"};
  const Hl7Message ack =
      ParseOrDie(MakeAck(original, AckCode::kError, error, "PID-3 incomplete", kOptions));
  EXPECT_EQ(ack.Get("MSA-1"), "AE");
  EXPECT_EQ(ack.Get("MSA-2"), "CTRL-1");
  EXPECT_EQ(ack.Get("MSA-3"), "PID-3 incomplete");
  const Segment* err = ack.FindSegment("ERR");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->EncodeField(1), "");  // v2.5 receivers read ERR-2 and ERR-3
  EXPECT_EQ(err->EncodeField(2), "PID^1^3^1^4");
  EXPECT_EQ(err->EncodeField(3), "101^Required field missing^HL70357");
  EXPECT_EQ(ack.Get("ERR-4"), "E");
  EXPECT_EQ(ack.Get("ERR-8"), "assigning authority missing");
}

TEST(Hl7AckTest, MessageOfTheErrorIsTheDefaultText) {
  const Hl7Message original = ParseOrDie(kAdt);
  const Hl7Error error{"PID", 1, 5, 0, Hl7ErrorCode::kDataTypeError, "bad name"};
  const Hl7Message ack = ParseOrDie(MakeAck(original, AckCode::kError, error, "", kOptions));
  EXPECT_EQ(ack.Get("MSA-3"), "bad name");
  EXPECT_EQ(ack.FindSegment("ERR")->EncodeField(2), "PID^1^5");
}

TEST(Hl7AckTest, AcceptIgnoresAnError) {
  const Hl7Message original = ParseOrDie(kAdt);
  const Hl7Error error{"PID", 1, 5, 0, Hl7ErrorCode::kDataTypeError, "bad name"};
  const Hl7Message ack = ParseOrDie(MakeAck(original, AckCode::kAccept, error, "", kOptions));
  EXPECT_EQ(ack.FindSegment("ERR"), nullptr);
  EXPECT_EQ(ack.Get("MSA-3"), "");
}

TEST(Hl7AckTest, UnsupportedTypeIsRejectedWithCode200) {
  const Hl7Message original =
      ParseOrDie("MSH|^~\\&|A|B|C|D|2025||ADT^A28^ADT_A05|Q-1|T|2.5\rPID|1\r");
  ASSERT_FALSE(IsSupportedType(original));
  const Hl7Error error = UnsupportedTypeError(original);
  const Hl7Message ack = ParseOrDie(MakeAck(original, AckCode::kReject, error, "", kOptions));
  EXPECT_EQ(ack.Get("MSA-1"), "AR");
  EXPECT_EQ(ack.Get("MSA-2"), "Q-1");
  EXPECT_EQ(ack.processing_id(), "T");
  EXPECT_EQ(ack.Get("ERR-2"), "MSH");
  EXPECT_EQ(ack.Get("ERR-2.3"), "9");
  EXPECT_EQ(ack.Get("ERR-3.1"), "200");
  EXPECT_EQ(ack.Get("ERR-3.2"), "Unsupported message type");
  EXPECT_EQ(ack.Get("ERR-3.3"), "HL70357");
  EXPECT_EQ(ack.Get("ERR-8"), "message type ADT^A28 is not accepted");
}

TEST(Hl7AckTest, SupportedTypesAreTheStoredAdtEventsAndOruR01) {
  auto type_of = [](std::string_view type) {
    return ParseOrDie("MSH|^~\\&|A|B|C|D|2025||" + std::string(type) + "|1|P|2.5\r");
  };
  for (const char* t : {"ADT^A01", "ADT^A02", "ADT^A03", "ADT^A04", "ADT^A05", "ADT^A08", "ADT^A11",
                        "ADT^A13", "ADT^A31", "ADT^A40^ADT_A39", "ORU^R01^ORU_R01"}) {
    EXPECT_TRUE(IsSupportedType(type_of(t))) << t;
  }
  for (const char* t : {"ADT^A28", "ADT^A06", "ADT", "ORU^R30", "ORM^O01", "MDM^T02", "ACK^A01"}) {
    EXPECT_FALSE(IsSupportedType(type_of(t))) << t;
  }
}

TEST(Hl7AckTest, OlderVersionsAlsoGetErr1) {
  const Hl7Message original = ParseOrDie("MSH|^~\\&|A|B|C|D|2025||ADT^A01|X-3|P|2.3.1\r");
  const Hl7Error error{"PV1", 2, 3, 0, Hl7ErrorCode::kRequiredFieldMissing, ""};
  const Hl7Message ack = ParseOrDie(MakeAck(original, AckCode::kError, error, "", kOptions));
  EXPECT_EQ(ack.version(), "2.3.1");
  EXPECT_EQ(ack.FindSegment("ERR")->EncodeField(1), "PV1^2^3^101&Required field missing&HL70357");
  EXPECT_EQ(ack.Get("ERR-2"), "PV1");
  EXPECT_EQ(ack.Get("ERR-3"), "101");
}

TEST(Hl7AckTest, AckKeepsTheOriginalDelimitersAndEscapesText) {
  const Hl7Message original =
      ParseOrDie("MSH#*!@%#APP#FAC#RCV#RFAC#2025##ORU*R01#C-9#P#2.4\rPID#1\r");
  const std::string text = "bad # * ! @ % | ^ ~ \\ & \r MSH|x \n end";
  const std::string ack_text = MakeAck(original, AckCode::kError, std::nullopt, text, kOptions);
  EXPECT_EQ(ack_text.rfind("MSH#*!@%#RCV#RFAC#APP#FAC#", 0), 0u) << ack_text;
  const Hl7Message ack = ParseOrDie(ack_text);
  EXPECT_EQ(ack.segments().size(), 2u);
  EXPECT_EQ(ack.Get("MSA-1"), "AE");
  EXPECT_EQ(ack.Get("MSA-2"), "C-9");
  EXPECT_EQ(ack.Get("MSA-3"), text);
}

TEST(Hl7AckTest, WithoutAnEscapeCharacterDelimitersInTextBecomeSpaces) {
  const Hl7Message original = ParseOrDie("MSH#-*#APP#FAC#RCV#RFAC#2025##ORU-R01#C-9#P#2.4\r");
  EXPECT_EQ(original.delimiters().escape, '\0');
  EXPECT_EQ(original.control_id(), "C");
  const Hl7Message ack = ParseOrDie(
      MakeAck(original, AckCode::kAccept, std::nullopt, "a#b-c*d\\e", AckOptions{"ACK-1", "2025"}));
  EXPECT_EQ(ack.Get("MSH-2"), "-*");
  EXPECT_EQ(ack.control_id(), "ACK 1");
  EXPECT_EQ(ack.Get("MSA-2"), "C");
  EXPECT_EQ(ack.Get("MSA-3"), "a b c d\\e");
}

TEST(Hl7AckTest, Latin1OriginalGetsALatin1Ack) {
  const Hl7Message original =
      ParseOrDie("MSH|^~\\&|H\xD4PITAL|B|C|D|2025||ADT^A01|X-1|P|2.5|||||FRA|8859/1\r");
  const std::string ack =
      MakeAck(original, AckCode::kAccept, std::nullopt, "re\xC3\xA7u", kOptions);
  EXPECT_NE(ack.find("H\xD4PITAL"), std::string::npos);
  EXPECT_NE(ack.find("re\xE7u"), std::string::npos);
  const Hl7Message parsed = ParseOrDie(ack);
  EXPECT_EQ(parsed.charset(), "8859/1");
  EXPECT_EQ(parsed.Get("MSH-5"), "H\xC3\x94PITAL");
  EXPECT_EQ(parsed.Get("MSA-3"), "re\xC3\xA7u");
}

// Found by the fuzzer: with '-' as escape character the ACK wrote MSH-18 as
// "UNICODE UTF-E-8", which the charset check compared undecoded and refused.
TEST(Hl7AckTest, CharsetNameHoldingTheEscapeCharacterSurvivesTheRoundTrip) {
  const Hl7Message original =
      ParseOrDie("MSH|^~-&|GAM-DEMO|B|C|D|2025||ADT^A01|X-1|P|2.5|||||FRA|UNICODE UTF-8\r");
  EXPECT_EQ(original.charset(), "UNICODE UTF-8");
  const std::string ack = MakeAck(original, AckCode::kAccept, std::nullopt, "", kOptions);
  EXPECT_NE(ack.find("|UNICODE UTF-E-8\r"), std::string::npos) << ack;
  const Hl7Message parsed = ParseOrDie(ack);
  EXPECT_EQ(parsed.charset(), "UNICODE UTF-8");
  EXPECT_EQ(parsed.Get("MSH-5"), "GAM-DEMO");
  EXPECT_THAT(ParseHl7("MSH|^~\\&|A|B|C|D|2025||ADT^A01|X-1|P|2.5|||||FRA|8859\\X2F\\1\r"), IsOk());
}

TEST(Hl7AckTest, UnparseableMessageWithReadableMshIsAddressedToItsSender) {
  const std::string raw = "MSH|^~\\&|APP|FAC|ME|MYFAC|2025||ADT^A01|C-42|P|2.5|||||FRA|8859/15\r";
  const Hl7ParseResult parsed = ParseHl7Detailed(raw);
  ASSERT_FALSE(parsed.ok());
  const Hl7Message ack =
      ParseOrDie(MakeAckForUnparseable(raw, parsed.error, "cannot read", kOptions));
  EXPECT_EQ(ack.Get("MSH-3"), "ME");
  EXPECT_EQ(ack.Get("MSH-5"), "APP");
  EXPECT_EQ(ack.charset(), "");  // never declares a charset we do not read ourselves
  EXPECT_EQ(ack.Get("MSA-1"), "AR");
  EXPECT_EQ(ack.Get("MSA-2"), "C-42");
  EXPECT_EQ(ack.Get("MSA-3"), "cannot read");
  EXPECT_EQ(ack.Get("ERR-2"), "MSH");
  EXPECT_EQ(ack.Get("ERR-2.3"), "18");
  EXPECT_EQ(ack.Get("ERR-3"), "103");
}

TEST(Hl7AckTest, UnparseableMessageKeepsItsDelimitersAndDropsInvalidBytes) {
  const std::string raw = "MSH#*!@%#AP\xFFP#FAC#ME#MYFAC#2025##ADT*A01#C-43#P#1.0\rPID#1\r";
  const Hl7ParseResult parsed = ParseHl7Detailed(raw);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error.code, Hl7ErrorCode::kDataTypeError);
  const std::string ack = MakeAckForUnparseable(raw, parsed.error, "", kOptions);
  EXPECT_EQ(ack.rfind("MSH#*!@%#ME#MYFAC#AP?P#FAC#", 0), 0u) << ack;
  // The sender's version 1.0 is echoed, so our own parser refuses the ACK on MSH-12 only.
  const Hl7ParseResult back = ParseHl7Detailed(ack);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error.code, Hl7ErrorCode::kUnsupportedVersionId);
}

TEST(Hl7AckTest, GarbageGetsARejectWithDefaultDelimiters) {
  const Hl7ParseResult parsed = ParseHl7Detailed("\x01\x02garbage");
  ASSERT_FALSE(parsed.ok());
  const std::string ack_text = MakeAckForUnparseable("\x01\x02garbage", parsed.error, "", kOptions);
  EXPECT_EQ(ack_text.rfind("MSH|^~\\&|||||20250101120500||ACK^^ACK|ACK-7|P|2.5.1\r", 0), 0u)
      << ack_text;
  const Hl7Message ack = ParseOrDie(ack_text);
  EXPECT_EQ(ack.Get("MSA-1"), "AR");
  EXPECT_EQ(ack.Get("MSA-2"), "");
  EXPECT_EQ(ack.Get("MSA-3"), "message does not start with MSH");
  EXPECT_EQ(ack.Get("ERR-3"), "100");
}

TEST(Hl7AckTest, MissingTimestampIsTheCurrentUtcTime) {
  const Hl7Message original = ParseOrDie(kAdt);
  const Hl7Message ack =
      ParseOrDie(MakeAck(original, AckCode::kAccept, std::nullopt, "", AckOptions{"A1", ""}));
  const std::string_view ts = ack.Get("MSH-7");
  ASSERT_EQ(ts.size(), 19u);
  EXPECT_EQ(ts.substr(14), "+0000");
  EXPECT_EQ(ts.substr(0, 2), "20");
}

TEST(Hl7AckTest, TimestampsAreHl7DtmInUtc) {
  EXPECT_EQ(FormatHl7Timestamp(std::chrono::system_clock::time_point{}), "19700101000000+0000");
  EXPECT_EQ(
      FormatHl7Timestamp(std::chrono::system_clock::time_point{std::chrono::seconds{1741259514}}),
      "20250306111154+0000");
}

}  // namespace
}  // namespace eds::ingest::hl7
