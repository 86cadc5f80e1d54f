// MllpDecoder and MllpFrame: frames split anywhere, several per read, and every framing error.
#include "ingest/mllp/framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace eds::ingest {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

std::vector<std::string> Drain(MllpDecoder& decoder) {
  std::vector<std::string> out;
  while (decoder.HasMessage()) out.push_back(decoder.TakeMessage());
  return out;
}

TEST(MllpFrameTest, WrapsMessageInStartAndEndBlocks) {
  EXPECT_EQ(MllpFrame("MSH|x"), std::string("\x0bMSH|x\x1c\x0d"));
  std::string out = "prefix";
  AppendMllpFrame("A", out);
  EXPECT_EQ(out, std::string("prefix\x0b"
                             "A\x1c\x0d"));
}

TEST(MllpDecoderTest, DecodesOneFrame) {
  MllpDecoder decoder(1024);
  EXPECT_THAT(decoder.Feed(MllpFrame("MSH|1\rPID|1")), IsOk());
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{"MSH|1\rPID|1"});
  EXPECT_FALSE(decoder.in_frame());
}

TEST(MllpDecoderTest, DecodesFramesFedOneByteAtATime) {
  const std::string stream = MllpFrame("MSH|first\rPID|1") + MllpFrame("MSH|second");
  MllpDecoder decoder(1024);
  std::vector<std::string> got;
  for (char c : stream) {
    ASSERT_THAT(decoder.Feed(std::string_view(&c, 1)), IsOk());
    for (std::string& m : Drain(decoder)) got.push_back(std::move(m));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"MSH|first\rPID|1", "MSH|second"}));
  EXPECT_EQ(decoder.frames_started(), 2u);
}

TEST(MllpDecoderTest, DecodesFramesSplitAtEveryPosition) {
  const std::string stream = MllpFrame("MSH|a") + MllpFrame("MSH|bb") + MllpFrame("MSH|ccc");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    MllpDecoder decoder(64);
    ASSERT_THAT(decoder.Feed(std::string_view(stream).substr(0, cut)), IsOk());
    ASSERT_THAT(decoder.Feed(std::string_view(stream).substr(cut)), IsOk());
    EXPECT_EQ(Drain(decoder), (std::vector<std::string>{"MSH|a", "MSH|bb", "MSH|ccc"}))
        << "cut at " << cut;
  }
}

TEST(MllpDecoderTest, DecodesSeveralFramesInOneRead) {
  std::string stream;
  for (int i = 0; i < 10; ++i) stream += MllpFrame("MSH|" + std::to_string(i));
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed(stream), IsOk());
  std::vector<std::string> got = Drain(decoder);
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[static_cast<size_t>(i)], "MSH|" + std::to_string(i));
}

TEST(MllpDecoderTest, SkipsCarriageReturnsAndLineFeedsBetweenFrames) {
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed("\r\n" + MllpFrame("MSH|1") + "\n\r\n" + MllpFrame("MSH|2") + "\r\n"),
              IsOk());
  EXPECT_EQ(Drain(decoder), (std::vector<std::string>{"MSH|1", "MSH|2"}));
}

TEST(MllpDecoderTest, KeepsCarriageReturnsAndLineFeedsInsideAMessage) {
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed(MllpFrame("\rMSH|1\r\nPID\n")), IsOk());
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{"\rMSH|1\r\nPID\n"});
}

TEST(MllpDecoderTest, DecodesAnEmptyFrame) {
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed(MllpFrame("")), IsOk());
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{""});
}

TEST(MllpDecoderTest, RejectsJunkBeforeTheFirstFrame) {
  MllpDecoder decoder(64);
  EXPECT_THAT(decoder.Feed("GET / HTTP/1.1\r\n" + MllpFrame("MSH|1")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(decoder.HasMessage());
}

TEST(MllpDecoderTest, RejectsJunkBetweenFramesAfterKeepingTheEarlierMessage) {
  MllpDecoder decoder(64);
  EXPECT_THAT(decoder.Feed(MllpFrame("MSH|1") + "x" + MllpFrame("MSH|2")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{"MSH|1"});
}

TEST(MllpDecoderTest, RejectsEndBlockNotFollowedByCarriageReturn) {
  MllpDecoder decoder(64);
  EXPECT_THAT(decoder.Feed(std::string("\x0bMSH|1\x1c\x0a")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(decoder.HasMessage());
}

TEST(MllpDecoderTest, RejectsMissingCarriageReturnSplitAcrossReads) {
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed(std::string("\x0bMSH|1\x1c")), IsOk());
  EXPECT_TRUE(decoder.in_frame());
  EXPECT_THAT(decoder.Feed(std::string("\x0b")), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MllpDecoderTest, RejectsStartBlockInsideAFrame) {
  MllpDecoder decoder(64);
  EXPECT_THAT(decoder.Feed(std::string("\x0bMSH|trunc") + MllpFrame("MSH|2")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(decoder.HasMessage());
}

TEST(MllpDecoderTest, AcceptsAMessageOfExactlyTheLimit) {
  MllpDecoder decoder(100);
  ASSERT_THAT(decoder.Feed(MllpFrame(std::string(100, 'a'))), IsOk());
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{std::string(100, 'a')});
}

TEST(MllpDecoderTest, RejectsAFrameOverTheLimitBeforeItEnds) {
  MllpDecoder decoder(100);
  // No end block yet: the limit is enforced as soon as it is passed.
  EXPECT_THAT(decoder.Feed("\x0b" + std::string(101, 'a')),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(MllpDecoderTest, RejectsAFrameOverTheLimitFedByteByByte) {
  MllpDecoder decoder(10);
  ASSERT_THAT(decoder.Feed("\x0b"), IsOk());
  Status last;
  for (int i = 0; i < 11 && last.ok(); ++i) last = decoder.Feed("a");
  EXPECT_THAT(last, StatusIs(StatusCode::kResourceExhausted));
}

TEST(MllpDecoderTest, ErrorIsStickyAndLaterInputIsIgnored) {
  MllpDecoder decoder(64);
  ASSERT_THAT(decoder.Feed("junk"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(decoder.Feed(MllpFrame("MSH|1")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(decoder.HasMessage());
  EXPECT_THAT(decoder.status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(MllpDecoderTest, ReportsAFrameInProgress) {
  MllpDecoder decoder(64);
  EXPECT_FALSE(decoder.in_frame());
  ASSERT_THAT(decoder.Feed("\r\n"), IsOk());
  EXPECT_FALSE(decoder.in_frame());
  EXPECT_EQ(decoder.frames_started(), 0u);
  ASSERT_THAT(decoder.Feed("\x0bMSH"), IsOk());
  EXPECT_TRUE(decoder.in_frame());
  EXPECT_EQ(decoder.frames_started(), 1u);
  ASSERT_THAT(decoder.Feed("\x1c\x0d"), IsOk());
  EXPECT_FALSE(decoder.in_frame());
}

TEST(MllpDecoderTest, KeepsBinaryBytesOtherThanFramingBytes) {
  std::string message;
  for (int c = 0; c < 256; ++c) {
    if (c != 0x0b && c != 0x1c) message.push_back(static_cast<char>(c));
  }
  MllpDecoder decoder(1024);
  ASSERT_THAT(decoder.Feed(MllpFrame(message)), IsOk());
  EXPECT_EQ(Drain(decoder), std::vector<std::string>{message});
}

}  // namespace
}  // namespace eds::ingest
