#include "common/status.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "tests/testing/status_matchers.h"

namespace eds {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("not positive");
  return v;
}

Result<int> Doubled(int v) {
  EDS_ASSIGN_OR_RETURN(int p, ParsePositive(v));
  return 2 * p;
}

Status CheckBoth(int a, int b) {
  EDS_RETURN_IF_ERROR(ParsePositive(a).status());
  EDS_RETURN_IF_ERROR(ParsePositive(b).status().WithContext("b"));
  return OkStatus();
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Doubled(4), 8);
  EXPECT_THAT(Doubled(-1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckBoth(1, 2), IsOk());
  Status s = CheckBoth(1, 0);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: b: not positive");
}

TEST(EncodingTest, HexAndBase64RoundTripEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < 8; ++n) {
    const std::string part = all.substr(0, all.size() - n);
    EXPECT_EQ(*HexDecode(HexEncode(part)), part);
    EXPECT_EQ(*Base64Decode(Base64Encode(part)), part);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
}

TEST(EncodingTest, BigEndianIntegersSortAsBytes) {
  std::string a, b;
  PutBigEndian64(a, 255);
  PutBigEndian64(b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(GetBigEndian64(b), 256u);
  std::string c;
  PutBigEndian32(c, 0xA1B2C3D4u);
  EXPECT_EQ(GetBigEndian32(c), 0xA1B2C3D4u);
}

TEST(EncodingTest, VarintsRoundTripAndRefuseWhatIsCutShortOrTooLong) {
  std::string out;
  const uint32_t values[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX};
  for (uint32_t v : values) PutVarint32(out, v);
  EXPECT_EQ(out.substr(0, 5), std::string("\x00\x01\x7f\x80\x01", 5));
  size_t pos = 0;
  for (uint32_t v : values) EXPECT_EQ(GetVarint32(out, &pos), v);
  EXPECT_EQ(pos, out.size());

  pos = 0;
  EXPECT_FALSE(GetVarint32(std::string("\x80\x80", 2), &pos).has_value());
  EXPECT_EQ(pos, 0u);
  EXPECT_FALSE(GetVarint32("", &pos).has_value());
  // Six bytes, or five that carry more than 32 bits, are not a uint32_t.
  EXPECT_FALSE(GetVarint32(std::string("\xff\xff\xff\xff\xff\x01", 6), &pos).has_value());
  EXPECT_FALSE(GetVarint32(std::string("\xff\xff\xff\xff\x1f", 5), &pos).has_value());
  EXPECT_EQ(pos, 0u);
}

}  // namespace
}  // namespace eds
