#include "aggregate/period.h"

#include <gtest/gtest.h>

#include "ingest/facts.h"
#include "tests/testing/status_matchers.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::StatusIs;

TEST(PeriodTest, MonthsCoverTheirDays) {
  const Period feb = ParsePeriod("2024-02").value();
  EXPECT_EQ(feb.start, "2024-02-01");
  EXPECT_EQ(feb.end, "2024-02-29");
  EXPECT_EQ(feb.last_day - feb.first_day, 28);
  const Period dec = ParsePeriod("2023-12").value();
  EXPECT_EQ(dec.end, "2023-12-31");
  EXPECT_EQ(ParsePeriod("2023-09").value().end, "2023-09-30");
}

TEST(PeriodTest, IsoWeeksFollowIso8601) {
  // 2025-W01 starts on Monday 2024-12-30; 2020 has a week 53, 2021 does not.
  EXPECT_EQ(ParsePeriod("2025-W01").value().start, "2024-12-30");
  EXPECT_EQ(ParsePeriod("2025-W01").value().end, "2025-01-05");
  EXPECT_EQ(ParsePeriod("2020-W53").value().start, "2020-12-28");
  EXPECT_THAT(ParsePeriod("2021-W53"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(IsoWeekLabel(ingest::DayOf("2021-01-03")), "2020-W53");
  EXPECT_EQ(IsoWeekLabel(ingest::DayOf("2024-12-31")), "2025-W01");
  EXPECT_EQ(IsoWeekLabel(ingest::DayOf("2025-03-12")), "2025-W11");
  EXPECT_EQ(MonthLabel(ingest::DayOf("2025-03-12")), "2025-03");
}

TEST(PeriodTest, AnythingElseIsRefused) {
  for (const char* bad : {"", "2025", "2025-13", "2025-00", "2025-W00", "2025-W54", "25-01",
                          "2025-1", "2025-W1", "2025-01-01"}) {
    EXPECT_THAT(ParsePeriod(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace eds::aggregate
