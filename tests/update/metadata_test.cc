#include "update/internal/metadata.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "tests/testing/status_matchers.h"
#include "update/internal/crypto.h"
#include "update/repository.h"

namespace eds::update::internal {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSigned[] =
    R"({"_type":"timestamp","spec_version":"1.0.31","version":3,
        "expires":"2030-01-01T00:00:00Z",
        "meta":{"snapshot.json":{"version":7,"length":10,"hashes":{"sha256":"00"}}}})";

KeyMap KeysOf(const std::vector<SigningKey>& keys) {
  KeyMap map;
  for (const auto& k : keys) map[k.keyid] = Key{"ed25519", "ed25519", *HexDecode(k.public_hex)};
  return map;
}

RoleKeys RoleOf(const std::vector<SigningKey>& keys, int64_t threshold) {
  RoleKeys role;
  for (const auto& k : keys) role.keyids.push_back(k.keyid);
  role.threshold = threshold;
  return role;
}

Envelope Signed(const std::vector<SigningKey>& signers) {
  auto bytes = SignMetadata(kSigned, signers);
  EXPECT_TRUE(bytes.ok());
  auto env = ParseEnvelope(*bytes, "timestamp");
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  return *env;
}

class ThresholdTest : public ::testing::Test {
 protected:
  std::vector<SigningKey> keys_ = {GenerateSigningKey(), GenerateSigningKey(),
                                   GenerateSigningKey()};
};

TEST_F(ThresholdTest, TwoOfThreeSignaturesMeetAThresholdOfTwo) {
  EXPECT_THAT(VerifyThreshold(Signed({keys_[0], keys_[2]}), KeysOf(keys_), RoleOf(keys_, 2), "t"),
              IsOk());
}

TEST_F(ThresholdTest, OneSignatureDoesNotMeetAThresholdOfTwo) {
  EXPECT_THAT(VerifyThreshold(Signed({keys_[1]}), KeysOf(keys_), RoleOf(keys_, 2), "t"),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(ThresholdTest, SignaturesByKeysOutsideTheRoleDoNotCount) {
  std::vector<SigningKey> role_keys = {keys_[0]};
  EXPECT_THAT(
      VerifyThreshold(Signed({keys_[1], keys_[2]}), KeysOf(keys_), RoleOf(role_keys, 1), "t"),
      StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(ThresholdTest, AChangedSignedPartInvalidatesTheSignature) {
  Envelope env = Signed({keys_[0]});
  env.canonical_signed[10] ^= 1;
  EXPECT_THAT(VerifyThreshold(env, KeysOf(keys_), RoleOf(keys_, 1), "t"),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(ThresholdTest, TheSameKeySigningTwiceIsRefused) {
  auto bytes = SignMetadata(kSigned, {keys_[0], keys_[0]});
  ASSERT_THAT(bytes, IsOk());
  EXPECT_THAT(ParseEnvelope(*bytes, "timestamp"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MetadataTest, ParsesTimestampFields) {
  auto bytes = SignMetadata(kSigned, {GenerateSigningKey()});
  ASSERT_THAT(bytes, IsOk());
  auto env = ParseEnvelope(*bytes, "timestamp");
  ASSERT_THAT(env, IsOk());
  auto ts = ParseTimestamp(*env);
  ASSERT_THAT(ts, IsOk());
  EXPECT_EQ(ts->common.version, 3);
  EXPECT_EQ(ts->snapshot.version, 7);
  EXPECT_EQ(ts->snapshot.length, 10);
  EXPECT_EQ(FormatExpires(ts->common.expires), "2030-01-01T00:00:00Z");
}

TEST(MetadataTest, RefusesTheWrongType) {
  auto bytes = SignMetadata(kSigned, {GenerateSigningKey()});
  ASSERT_THAT(bytes, IsOk());
  auto env = ParseEnvelope(*bytes, "snapshot");
  ASSERT_THAT(env, IsOk());
  EXPECT_THAT(ParseSnapshot(*env), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ExpiryTest, ExpiresAtTheStatedSecond) {
  auto expires = ParseExpires("2030-01-01T00:00:00Z");
  ASSERT_THAT(expires, IsOk());
  EXPECT_EQ(*expires, 1893456000);
  Common c{"timestamp", 1, *expires};
  EXPECT_THAT(CheckNotExpired(c, *expires - 1, "timestamp"), IsOk());
  EXPECT_THAT(CheckNotExpired(c, *expires, "timestamp"), StatusIs(StatusCode::kDeadlineExceeded));
}

TEST(ExpiryTest, RefusesMalformedDates) {
  EXPECT_THAT(ParseExpires("2030-01-01 00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseExpires("2030-13-01T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseExpires("2030-01-01T00:00:00"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseExpires("2030-01-01T00:00:00.123Z"), IsOk());
}

TEST(LengthAndHashTest, AcceptsTheDescribedBytes) {
  EXPECT_THAT(CheckLengthAndHashes("abc", 3, {{"sha256", Sha256Hex("abc")}}, "f"), IsOk());
  EXPECT_THAT(CheckLengthAndHashes("abc", 3, {{"sha512", Sha512Hex("abc")}}, "f"), IsOk());
}

TEST(LengthAndHashTest, RefusesLongerShorterAndChangedBytes) {
  const std::map<std::string, std::string> hashes = {{"sha256", Sha256Hex("abc")}};
  EXPECT_THAT(CheckLengthAndHashes("abcd", 3, hashes, "f"),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(CheckLengthAndHashes("ab", 3, hashes, "f"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CheckLengthAndHashes("abd", 3, hashes, "f"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CheckLengthAndHashes("abc", 3, {{"md5", "00"}}, "f"),
              StatusIs(StatusCode::kDataLoss));
}

TEST(DelegationTest, MatchesPatternsSegmentBySegment) {
  DelegatedRole role;
  role.paths = std::vector<std::string>{"packs/*.json", "firmware/*"};
  EXPECT_TRUE(DelegationCovers(role, "packs/eds.json"));
  EXPECT_TRUE(DelegationCovers(role, "firmware/image.raucb"));
  EXPECT_FALSE(DelegationCovers(role, "packs/sub/eds.json"));
  EXPECT_FALSE(DelegationCovers(role, "other/eds.json"));
}

TEST(DelegationTest, MatchesPathHashPrefixes) {
  DelegatedRole role;
  role.path_hash_prefixes = std::vector<std::string>{Sha256Hex("a/b").substr(0, 2)};
  EXPECT_TRUE(DelegationCovers(role, "a/b"));
}

}  // namespace
}  // namespace eds::update::internal
