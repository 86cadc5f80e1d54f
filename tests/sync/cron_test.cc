#include "sync/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace eds::sync {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using std::chrono::system_clock;
using ::testing::HasSubstr;

system_clock::time_point Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  return std::chrono::sys_days(std::chrono::year(y) / mo / d) + std::chrono::hours(h) +
         std::chrono::minutes(mi);
}

std::string Show(system_clock::time_point t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const auto hms = std::chrono::hh_mm_ss(std::chrono::floor<std::chrono::seconds>(t - day));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

// The next `count` fire times after `after`, as UTC strings.
std::vector<std::string> Fires(const std::string& expression, const std::string& zone,
                               system_clock::time_point after, int count) {
  Result<CronSchedule> schedule = CronSchedule::Parse(expression);
  EXPECT_THAT(schedule, IsOk()) << expression;
  std::vector<std::string> out;
  if (!schedule.ok()) return out;
  for (int i = 0; i < count; ++i) {
    Result<system_clock::time_point> next = schedule->NextFire(after, zone);
    EXPECT_THAT(next, IsOk()) << expression;
    if (!next.ok()) break;
    EXPECT_GT(*next, after);
    out.push_back(Show(*next));
    after = *next;
  }
  return out;
}

std::string ParseError(const std::string& expression) {
  Result<CronSchedule> schedule = CronSchedule::Parse(expression);
  EXPECT_THAT(schedule, StatusIs(StatusCode::kInvalidArgument)) << expression;
  return schedule.ok() ? "" : schedule.status().message();
}

TEST(CronTest, EveryMinuteFiresStrictlyAfter) {
  EXPECT_THAT(Fires("* * * * *", "UTC", Utc(2026, 11, 28, 10, 0), 2),
              ::testing::ElementsAre("2026-11-28T10:01:00Z", "2026-11-28T10:02:00Z"));
  EXPECT_THAT(Fires("* * * * *", "UTC", Utc(2026, 11, 28, 10, 0) - std::chrono::milliseconds(1), 1),
              ::testing::ElementsAre("2026-11-28T10:00:00Z"));
}

TEST(CronTest, WeekdaysAtNoonSkipTheWeekend) {
  // 2026-11-27 is a Friday.
  EXPECT_THAT(Fires("0 12 * * 1-5", "UTC", Utc(2026, 11, 27, 12, 0), 2),
              ::testing::ElementsAre("2026-11-30T12:00:00Z", "2026-12-01T12:00:00Z"));
}

TEST(CronTest, ListsRangesAndSteps) {
  EXPECT_THAT(
      Fires("1-10/3 * * * *", "UTC", Utc(2026, 1, 1, 5, 0), 5),
      ::testing::ElementsAre("2026-01-01T05:01:00Z", "2026-01-01T05:04:00Z", "2026-01-01T05:07:00Z",
                             "2026-01-01T05:10:00Z", "2026-01-01T06:01:00Z"));
  EXPECT_THAT(Fires("*/20 9,17 * * *", "UTC", Utc(2026, 1, 1, 10, 0), 4),
              ::testing::ElementsAre("2026-01-01T17:00:00Z", "2026-01-01T17:20:00Z",
                                     "2026-01-01T17:40:00Z", "2026-01-02T09:00:00Z"));
  EXPECT_THAT(Fires("0 0 1 */4 *", "UTC", Utc(2026, 1, 1, 0, 0), 3),
              ::testing::ElementsAre("2026-05-01T00:00:00Z", "2026-09-01T00:00:00Z",
                                     "2027-01-01T00:00:00Z"));
}

TEST(CronTest, NamesAreCaseInsensitive) {
  // January and July, Monday to Friday, 09:00; 2026-07-01 is a Wednesday.
  EXPECT_THAT(Fires("0 9 * jan,Jul mon-FRI", "UTC", Utc(2026, 2, 1), 3),
              ::testing::ElementsAre("2026-07-01T09:00:00Z", "2026-07-02T09:00:00Z",
                                     "2026-07-03T09:00:00Z"));
}

TEST(CronTest, ZeroAndSevenAreBothSunday) {
  const std::vector<std::string> sundays = {"2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"};
  EXPECT_EQ(Fires("0 0 * * 0", "UTC", Utc(2026, 11, 28), 2), sundays);
  EXPECT_EQ(Fires("0 0 * * 7", "UTC", Utc(2026, 11, 28), 2), sundays);
  EXPECT_EQ(Fires("0 0 * * sun", "UTC", Utc(2026, 11, 28), 2), sundays);
  // Friday to Sunday.
  EXPECT_THAT(Fires("0 0 * * 5-7", "UTC", Utc(2026, 11, 26), 4),
              ::testing::ElementsAre("2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z",
                                     "2026-11-29T00:00:00Z", "2026-12-04T00:00:00Z"));
}

TEST(CronTest, MonthEndsSkipShortMonths) {
  EXPECT_THAT(Fires("0 0 31 * *", "UTC", Utc(2026, 1, 31), 3),
              ::testing::ElementsAre("2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
                                     "2026-07-31T00:00:00Z"));
  EXPECT_THAT(Fires("30 23 30 * *", "UTC", Utc(2026, 1, 31), 1),
              ::testing::ElementsAre("2026-03-30T23:30:00Z"));
}

TEST(CronTest, LeapDayFiresOnlyInLeapYears) {
  EXPECT_THAT(Fires("0 0 29 2 *", "UTC", Utc(2026, 1, 1), 2),
              ::testing::ElementsAre("2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"));
}

TEST(CronTest, ImpossibleDateIsNotFound) {
  Result<CronSchedule> schedule = CronSchedule::Parse("0 0 30 2 *");
  ASSERT_THAT(schedule, IsOk());
  Result<system_clock::time_point> next = schedule->NextFire(Utc(2026, 1, 1), "UTC");
  EXPECT_THAT(next, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(next.status().message(), HasSubstr("0 0 30 2 *"));
  schedule = CronSchedule::Parse("0 0 31 4,6,9,11 *");
  ASSERT_THAT(schedule, IsOk());
  EXPECT_THAT(schedule->NextFire(Utc(2026, 1, 1), "UTC"), StatusIs(StatusCode::kNotFound));
}

TEST(CronTest, RestrictedDayOfMonthAndDayOfWeekFireOnEither) {
  // The 10th (a Tuesday in November 2026) or any Friday.
  EXPECT_THAT(Fires("0 0 10 * 5", "UTC", Utc(2026, 11, 1), 4),
              ::testing::ElementsAre("2026-11-06T00:00:00Z", "2026-11-10T00:00:00Z",
                                     "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z"));
  EXPECT_THAT(Fires("0 0 10 * fri", "UTC", Utc(2026, 11, 1), 2),
              ::testing::ElementsAre("2026-11-06T00:00:00Z", "2026-11-10T00:00:00Z"));
}

TEST(CronTest, StarredDayFieldMakesBothDayFieldsRequired) {
  // Vixie cron: a day field that starts with `*` is not "restricted", so the two must both match:
  // odd days of the month that are Fridays.
  EXPECT_THAT(Fires("0 0 */2 * 5", "UTC", Utc(2026, 11, 1), 2),
              ::testing::ElementsAre("2026-11-13T00:00:00Z", "2026-11-27T00:00:00Z"));
  // Only the day of the month restricted.
  EXPECT_THAT(Fires("0 0 10 * *", "UTC", Utc(2026, 11, 1), 2),
              ::testing::ElementsAre("2026-11-10T00:00:00Z", "2026-12-10T00:00:00Z"));
}

TEST(CronTest, MacrosExpand) {
  const auto after = Utc(2026, 11, 28, 10, 30);  // A Saturday.
  EXPECT_THAT(Fires("@hourly", "UTC", after, 1), ::testing::ElementsAre("2026-11-28T11:00:00Z"));
  EXPECT_THAT(Fires("@daily", "UTC", after, 1), ::testing::ElementsAre("2026-11-29T00:00:00Z"));
  EXPECT_THAT(Fires("@midnight", "UTC", after, 1), ::testing::ElementsAre("2026-11-29T00:00:00Z"));
  EXPECT_THAT(Fires("@weekly", "UTC", after, 1), ::testing::ElementsAre("2026-11-29T00:00:00Z"));
  EXPECT_THAT(Fires("@monthly", "UTC", after, 1), ::testing::ElementsAre("2026-12-01T00:00:00Z"));
  EXPECT_THAT(Fires("@yearly", "UTC", after, 1), ::testing::ElementsAre("2027-01-01T00:00:00Z"));
  EXPECT_THAT(Fires("@annually", "UTC", after, 1), ::testing::ElementsAre("2027-01-01T00:00:00Z"));
}

TEST(CronTest, WallTimeFollowsTheZone) {
  // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
  EXPECT_THAT(Fires("0 9 * * *", "Europe/Paris", Utc(2026, 1, 10), 1),
              ::testing::ElementsAre("2026-01-10T08:00:00Z"));
  EXPECT_THAT(Fires("0 9 * * *", "Europe/Paris", Utc(2026, 7, 10), 1),
              ::testing::ElementsAre("2026-07-10T07:00:00Z"));
  // The local date decides the day: Saturday 00:30 in Paris is still Friday in UTC.
  EXPECT_THAT(Fires("30 0 * * sat", "Europe/Paris", Utc(2026, 11, 20), 1),
              ::testing::ElementsAre("2026-11-20T23:30:00Z"));
}

// Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:00-02:59 do not exist.
TEST(CronTest, ParisSpringForwardHourly) {
  EXPECT_THAT(Fires("0 * * * *", "Europe/Paris", Utc(2026, 3, 28, 23, 30), 3),
              ::testing::ElementsAre("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
                                     "2026-03-29T02:00:00Z"));
}

TEST(CronTest, ParisSpringForwardSkippedTimeFiresOnceAfterTheGap) {
  EXPECT_THAT(Fires("30 2 * * *", "Europe/Paris", Utc(2026, 3, 27, 12, 0), 3),
              ::testing::ElementsAre("2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z",
                                     "2026-03-30T00:30:00Z"));
}

TEST(CronTest, ParisSpringForwardEveryQuarterHour) {
  // 01:45 CET, then 02:00-02:45 all fall in the gap and fire once with 03:00 CEST.
  EXPECT_THAT(Fires("*/15 * * * *", "Europe/Paris", Utc(2026, 3, 29, 0, 30), 3),
              ::testing::ElementsAre("2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z",
                                     "2026-03-29T01:15:00Z"));
}

// Paris, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:00-02:59 happen twice.
TEST(CronTest, ParisFallBackHourlySkipsTheRepeatedHour) {
  EXPECT_THAT(Fires("0 * * * *", "Europe/Paris", Utc(2026, 10, 24, 22, 30), 4),
              ::testing::ElementsAre("2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z",
                                     "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"));
}

TEST(CronTest, ParisFallBackRepeatedTimeFiresAtFirstOccurrence) {
  EXPECT_THAT(Fires("30 2 * * *", "Europe/Paris", Utc(2026, 10, 24, 12, 0), 3),
              ::testing::ElementsAre("2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z",
                                     "2026-10-27T01:30:00Z"));
  // Asked from inside the second 02:xx hour, it does not fire again that day.
  EXPECT_THAT(Fires("30 2 * * *", "Europe/Paris", Utc(2026, 10, 25, 1, 10), 1),
              ::testing::ElementsAre("2026-10-26T01:30:00Z"));
}

TEST(CronTest, ParisFallBackEveryQuarterHour) {
  EXPECT_THAT(Fires("*/15 * * * *", "Europe/Paris", Utc(2026, 10, 25, 0, 30), 3),
              ::testing::ElementsAre("2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z",
                                     "2026-10-25T02:15:00Z"));
}

// New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
TEST(CronTest, NewYorkSpringForward) {
  EXPECT_THAT(Fires("0 * * * *", "America/New_York", Utc(2026, 3, 8, 5, 30), 3),
              ::testing::ElementsAre("2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z",
                                     "2026-03-08T08:00:00Z"));
  EXPECT_THAT(Fires("30 2 * * *", "America/New_York", Utc(2026, 3, 7, 0, 0), 3),
              ::testing::ElementsAre("2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z",
                                     "2026-03-09T06:30:00Z"));
}

// New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00 UTC); 01:xx happens twice.
TEST(CronTest, NewYorkFallBack) {
  EXPECT_THAT(Fires("0 * * * *", "America/New_York", Utc(2026, 11, 1, 4, 30), 3),
              ::testing::ElementsAre("2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z",
                                     "2026-11-01T08:00:00Z"));
  EXPECT_THAT(Fires("30 1 * * *", "America/New_York", Utc(2026, 10, 31, 0, 0), 3),
              ::testing::ElementsAre("2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z",
                                     "2026-11-02T06:30:00Z"));
}

TEST(CronTest, UnknownZoneIsInvalidArgument) {
  Result<CronSchedule> schedule = CronSchedule::Parse("@hourly");
  ASSERT_THAT(schedule, IsOk());
  for (const char* zone : {"Mars/Olympus_Mons", "", "Etc/Unknown", "GMT+01:00"}) {
    Result<system_clock::time_point> next = schedule->NextFire(Utc(2026, 1, 1), zone);
    EXPECT_THAT(next, StatusIs(StatusCode::kInvalidArgument)) << zone;
    EXPECT_THAT(next.status().message(), HasSubstr("unknown time zone")) << zone;
  }
}

TEST(CronTest, BadExpressionsNameTheFieldAndToken) {
  EXPECT_EQ(ParseError("61 * * * *"), "cron field minute: bad token '61' (allowed 0-59)");
  EXPECT_EQ(ParseError("* 24 * * *"), "cron field hour: bad token '24' (allowed 0-23)");
  EXPECT_EQ(ParseError("* * 0 * *"), "cron field day-of-month: bad token '0' (allowed 1-31)");
  EXPECT_EQ(ParseError("* * * 13 *"), "cron field month: bad token '13' (allowed 1-12)");
  EXPECT_EQ(ParseError("* * * FOO *"), "cron field month: bad token 'FOO' (not a number or name)");
  EXPECT_EQ(ParseError("* * * * 8"), "cron field day-of-week: bad token '8' (allowed 0-7)");
  EXPECT_EQ(ParseError("* * * * mon-funday"),
            "cron field day-of-week: bad token 'mon-funday' (not a number or name)");
  EXPECT_EQ(ParseError("1x * * * *"), "cron field minute: bad token '1x' (not a number)");
  EXPECT_EQ(ParseError("* 5-1 * * *"), "cron field hour: bad token '5-1' (range is reversed)");
  EXPECT_EQ(ParseError("*/0 * * * *"),
            "cron field minute: bad token '*/0' (step must be at least 1)");
  EXPECT_EQ(ParseError("*/x * * * *"), "cron field minute: bad token '*/x' (step is not a number)");
  EXPECT_EQ(ParseError("5/15 * * * *"),
            "cron field minute: bad token '5/15' (a step needs a range or *)");
  EXPECT_EQ(ParseError("1,,2 * * * *"), "cron field minute: bad token '1,,2' (empty list item)");
  EXPECT_EQ(ParseError("1- * * * *"), "cron field minute: bad token '1-' (missing value)");
  EXPECT_EQ(ParseError("* * * *"),
            "cron expression '* * * *' has 4 fields; expected 5 (minute hour day-of-month month "
            "day-of-week)");
  EXPECT_THAT(ParseError("* * * * * *"), HasSubstr("has 6 fields"));
  EXPECT_THAT(ParseError(""), HasSubstr("has 0 fields"));
  EXPECT_EQ(ParseError("@reboot"), "unknown cron macro '@reboot'");
}

TEST(CronTest, JitterIsStableAndWithinTheWindow) {
  const std::string seed(32, 'k');
  const auto window = std::chrono::minutes(30);
  std::set<system_clock::duration::rep> offsets;
  for (int i = 0; i < 500; ++i) {
    const auto fire = Utc(2026, 1, 1) + std::chrono::hours(i);
    Result<system_clock::time_point> a = JitteredFire(fire, window, seed);
    Result<system_clock::time_point> b = JitteredFire(fire, window, seed);
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    EXPECT_EQ(*a, *b);
    EXPECT_GE(*a, fire);
    EXPECT_LT(*a, fire + window);
    offsets.insert((*a - fire).count());
  }
  // Different fires land at different points (500 draws from 1.8 million milliseconds).
  EXPECT_GT(offsets.size(), 490u);
}

TEST(CronTest, JitterSpreadsAFleetAcrossTheWindow) {
  const auto fire = Utc(2026, 1, 1, 3, 0);
  const auto window = std::chrono::minutes(60);
  std::vector<int> per_quarter(4, 0);
  for (int node = 0; node < 400; ++node) {
    const std::string seed = "node-seed-" + std::to_string(node) + std::string(16, '#');
    Result<system_clock::time_point> t = JitteredFire(fire, window, seed);
    ASSERT_THAT(t, IsOk());
    per_quarter[static_cast<size_t>((*t - fire) / std::chrono::minutes(15))]++;
  }
  // Roughly uniform: each quarter of the hour gets 100 +- a wide margin.
  for (int n : per_quarter) EXPECT_GT(n, 60);
}

TEST(CronTest, JitterRejectsBadSeedsAndWindows) {
  const auto fire = Utc(2026, 1, 1);
  EXPECT_THAT(JitteredFire(fire, std::chrono::minutes(1), std::string(15, 'a')),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(JitteredFire(fire, std::chrono::minutes(1), std::string(65, 'a')),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(JitteredFire(fire, std::chrono::milliseconds(-1), std::string(32, 'a')),
              StatusIs(StatusCode::kInvalidArgument));
  Result<system_clock::time_point> same = JitteredFire(fire, {}, std::string(32, 'a'));
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ(*same, fire);
}

}  // namespace
}  // namespace eds::sync
