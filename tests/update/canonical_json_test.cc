#include "update/internal/canonical_json.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace eds::update::internal {
namespace {

using ::eds::testing::StatusIs;
using nlohmann::json;

std::string Canon(const json& j) {
  auto out = CanonicalJson(j);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : "";
}

TEST(CanonicalJsonTest, SortsKeysAtEveryLevelWithoutWhitespace) {
  json j = json::parse(R"({ "b": 1, "a": { "d": [1, 2, {"z": 0, "y": 1}], "c": null } })");
  EXPECT_EQ(Canon(j), R"({"a":{"c":null,"d":[1,2,{"y":1,"z":0}]},"b":1})");
}

TEST(CanonicalJsonTest, SortsKeysByTheirBytes) {
  json j = json::parse(R"({"b": 1, "B": 2, "_type": 3, "\u00e9": 4, "a1": 5, "a": 6})");
  EXPECT_EQ(Canon(j), "{\"B\":2,\"_type\":3,\"a\":6,\"a1\":5,\"b\":1,\"\xc3\xa9\":4}");
}

TEST(CanonicalJsonTest, EscapesOnlyBackslashAndQuote) {
  json j = std::string("a\"b\\c\nd\te\x01 \xc3\xa9/");
  EXPECT_EQ(Canon(j), std::string("\"a\\\"b\\\\c\nd\te\x01 \xc3\xa9/\""));
}

TEST(CanonicalJsonTest, WritesIntegersBooleansAndNull) {
  json j = json::parse(R"([0, -1, 18446744073709551615, true, false, null, "", [], {}])");
  EXPECT_EQ(Canon(j), R"([0,-1,18446744073709551615,true,false,null,"",[],{}])");
}

TEST(CanonicalJsonTest, RefusesFloatingPointNumbers) {
  EXPECT_THAT(CanonicalJson(json::parse(R"({"a": 1.5})")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CanonicalJson(json::parse("[1e3]")), StatusIs(StatusCode::kInvalidArgument));
}

TEST(CanonicalJsonTest, MatchesTheSpecificationsKeyIdInput) {
  // The bytes TUF hashes into a key id: what securesystemslib produces for an ed25519 key.
  json key = json::parse(R"({"keytype": "ed25519", "scheme": "ed25519",
      "keyval": {"public": "edcd0a32a07dce33f7c7873aaffbff36d20ea30787574ead335eefd337e4dacd"}})");
  EXPECT_EQ(
      Canon(key),
      R"({"keytype":"ed25519","keyval":{"public":"edcd0a32a07dce33f7c7873aaffbff36d20ea30787574ead335eefd337e4dacd"},"scheme":"ed25519"})");
}

TEST(ParseJsonTest, ReportsInvalidJsonWithoutThrowing) {
  EXPECT_THAT(ParseJson("{\"a\":", "timestamp"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eds::update::internal
