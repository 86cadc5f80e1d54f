// Retry back-off: doubling from the first delay, capped, and jittered into the upper half so a
// fleet that failed together spreads out.
#include <gtest/gtest.h>

#include "sync/sync_service.h"

namespace eds::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryDelayTest, DoublesUpToTheCeiling) {
  EXPECT_EQ(RetryDelay(1, seconds(30), seconds(3600), 1.0), milliseconds(30000));
  EXPECT_EQ(RetryDelay(2, seconds(30), seconds(3600), 1.0), milliseconds(60000));
  EXPECT_EQ(RetryDelay(5, seconds(30), seconds(3600), 1.0), milliseconds(480000));
  EXPECT_EQ(RetryDelay(8, seconds(30), seconds(3600), 1.0), milliseconds(3600000));
  EXPECT_EQ(RetryDelay(1000, seconds(30), seconds(3600), 1.0), milliseconds(3600000));
}

TEST(RetryDelayTest, JitterKeepsTheUpperHalf) {
  EXPECT_EQ(RetryDelay(3, seconds(10), seconds(3600), 0.0), milliseconds(20000));
  EXPECT_EQ(RetryDelay(3, seconds(10), seconds(3600), 0.5), milliseconds(30000));
  EXPECT_EQ(RetryDelay(3, seconds(10), seconds(3600), 7.0), milliseconds(40000));  // clamped
}

}  // namespace
}  // namespace eds::sync
