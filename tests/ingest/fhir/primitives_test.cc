// The hand-written FHIR primitive checks and the JSON error locator.
#include "ingest/fhir/internal/primitives.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "ingest/fhir/internal/json_error.h"

namespace eds::ingest::fhir::internal {
namespace {

TEST(FhirPrimitivesTest, Id) {
  EXPECT_TRUE(IsFhirId("a"));
  EXPECT_TRUE(IsFhirId("Abc-1.2"));
  EXPECT_TRUE(IsFhirId(std::string(64, 'x')));
  EXPECT_FALSE(IsFhirId(std::string(65, 'x')));
  EXPECT_FALSE(IsFhirId(""));
  EXPECT_FALSE(IsFhirId("a_b"));
  EXPECT_FALSE(IsFhirId("a b"));
  EXPECT_FALSE(IsFhirId("a/b"));
}

TEST(FhirPrimitivesTest, Code) {
  EXPECT_TRUE(IsFhirCode("final"));
  EXPECT_TRUE(IsFhirCode("mm[Hg]"));
  EXPECT_TRUE(IsFhirCode("two words"));
  EXPECT_FALSE(IsFhirCode(""));
  EXPECT_FALSE(IsFhirCode(" lead"));
  EXPECT_FALSE(IsFhirCode("trail "));
  EXPECT_FALSE(IsFhirCode("two  spaces"));
  EXPECT_FALSE(IsFhirCode("tab\t\tx"));
}

TEST(FhirPrimitivesTest, Date) {
  EXPECT_TRUE(IsFhirDate("1980"));
  EXPECT_TRUE(IsFhirDate("1980-02"));
  EXPECT_TRUE(IsFhirDate("1980-02-29"));
  EXPECT_TRUE(IsFhirDate("2000-02-29"));
  EXPECT_TRUE(IsFhirDate("0001-01-01"));
  EXPECT_FALSE(IsFhirDate("1900-02-29"));
  EXPECT_FALSE(IsFhirDate("1980-13-45"));
  EXPECT_FALSE(IsFhirDate("1980-04-31"));
  EXPECT_FALSE(IsFhirDate("0000"));
  EXPECT_FALSE(IsFhirDate("80"));
  EXPECT_FALSE(IsFhirDate("1980-1-1"));
  EXPECT_FALSE(IsFhirDate("1980-01-01T00:00:00Z"));
  EXPECT_FALSE(IsFhirDate("1980-"));
}

TEST(FhirPrimitivesTest, DateTime) {
  EXPECT_TRUE(IsFhirDateTime("2015"));
  EXPECT_TRUE(IsFhirDateTime("2015-02-07"));
  EXPECT_TRUE(IsFhirDateTime("2015-02-07T13:28:17-05:00"));
  EXPECT_TRUE(IsFhirDateTime("2015-02-07T13:28:17.239+02:00"));
  EXPECT_TRUE(IsFhirDateTime("2015-02-07T23:59:60Z"));
  EXPECT_TRUE(IsFhirDateTime("2015-02-07T13:28:17+14:00"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07T13:28:17+14:30"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07T13:28:17"));  // A time needs a zone.
  EXPECT_FALSE(IsFhirDateTime("2015-02T13:28:17Z"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07T24:00:00Z"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07T13:28Z"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07T13:28:17.Z"));
  EXPECT_FALSE(IsFhirDateTime("2015-02-07 13:28:17Z"));
}

TEST(FhirPrimitivesTest, InstantAndTime) {
  EXPECT_TRUE(IsFhirInstant("2015-02-07T13:28:17.239+02:00"));
  EXPECT_FALSE(IsFhirInstant("2015-02-07"));
  EXPECT_FALSE(IsFhirInstant("2015-02-07T13:28:17"));
  EXPECT_TRUE(IsFhirTime("13:28:17"));
  EXPECT_TRUE(IsFhirTime("13:28:17.5"));
  EXPECT_FALSE(IsFhirTime("13:28"));
  EXPECT_FALSE(IsFhirTime("13:28:17Z"));
}

// The locator must agree with simdjson: valid by one means valid by the other.
bool SimdjsonAccepts(const std::string& json, size_t max_depth) {
  simdjson::dom::parser parser;
  if (parser.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, max_depth) != simdjson::SUCCESS) {
    return false;
  }
  simdjson::dom::element root;
  return parser.parse(simdjson::padded_string(json)).get(root) == simdjson::SUCCESS;
}

TEST(FhirJsonErrorTest, PointsAtTheFirstDefect) {
  struct Case {
    std::string json;
    size_t offset;
  };
  const Case cases[] = {
      {"", 0},
      {"{\"a\":1,}", 7},
      {"[1 2]", 3},
      {"[1,2", 4},
      {"{\"a\" 1}", 5},
      {"{\"a\":tru}", 5},
      {"{\"a\":01}", 5},
      {"{\"a\":1.}", 5},
      {"{\"a\":-}", 5},
      {"{\"a\":1x}", 5},
      {"[18446744073709551616]", 1},
      {"[-9223372036854775809]", 1},
      {"[1e400]", 1},
      {"[\"ab\\x\"]", 4},
      {"[\"\\ud800\"]", 2},
      {"[\"\\udc00\"]", 2},
      {"[\"a\x01\"]", 3},
      {"[\"\xC0\x80\"]", 2},
      {"[\"\xED\xA0\x80\"]", 2},
      {"[\"open", 1},
      {"{} x", 3},
      {"\xEF\xBB\xBF{}", 0},
      {"[[[[1]]]]", 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_FALSE(SimdjsonAccepts(c.json, 4));
    EXPECT_EQ(LocateJsonError(c.json, 4), c.offset);
  }
}

TEST(FhirJsonErrorTest, AcceptsWhatSimdjsonAccepts) {
  const std::string valid[] = {
      "{}",
      " [ ] ",
      "{\"a\":[1,-0,2.5e-3,1E+2,true,false,null,\"\\u00e9\\ud83d\\ude00\\n\"]}",
      "[18446744073709551615,-9223372036854775808,1e-400]",
      "\"caf\xC3\xA9\"",
      "[[[1]]]",
      "[[[[]]]]"};
  for (const std::string& json : valid) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(SimdjsonAccepts(json, 4));
    EXPECT_EQ(LocateJsonError(json, 4), std::nullopt);
  }
}

TEST(FhirJsonErrorTest, PositionCountsCharactersAndLines) {
  const TextPosition p = PositionOf(
      "ab\nc\xC3\xA9"
      "d",
      7);
  EXPECT_EQ(p.character, 6u);
  EXPECT_EQ(p.line, 2u);
  EXPECT_EQ(p.column, 4u);
}

}  // namespace
}  // namespace eds::ingest::fhir::internal
