#include "aggregate/period.h"

#include <cstdio>

#include "ingest/facts.h"

namespace eds::aggregate {
namespace {

// ISO weekday, Monday 1 .. Sunday 7 (1970-01-01 was a Thursday).
int32_t Weekday(int32_t day) { return ((day % 7) + 7 + 3) % 7 + 1; }

int32_t FirstDayOfYear(int year) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-01-01", year);
  return ingest::DayOf(buf);
}

int32_t MondayOfWeekOne(int year) {
  const int32_t jan4 = FirstDayOfYear(year) + 3;
  return jan4 - (Weekday(jan4) - 1);
}

bool Digits(std::string_view s, int* out) {
  if (s.empty()) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string DateLabel(int32_t day) {
  const ingest::CivilDate c = ingest::CivilOf(day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

std::string MonthLabel(int32_t day) { return DateLabel(day).substr(0, 7); }

std::string IsoWeekLabel(int32_t day) {
  const int32_t thursday = day - Weekday(day) + 4;
  const int year = ingest::CivilOf(thursday).year;
  const int32_t week = (thursday - FirstDayOfYear(year)) / 7 + 1;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", year, week);
  return buf;
}

Result<Period> ParsePeriod(std::string_view label) {
  int year = 0, n = 0;
  const auto bad = [&] {
    return InvalidArgumentError("period \"" + std::string(label) +
                                "\": expected YYYY-MM (a month) or YYYY-Www (an ISO week)");
  };
  if (label.size() < 7 || !Digits(label.substr(0, 4), &year) || label[4] != '-') return bad();
  Period p;
  p.label = std::string(label);
  if (label.size() == 7 && Digits(label.substr(5, 2), &n) && n >= 1 && n <= 12) {
    p.first_day = ingest::DayOf(label);
    const int32_t next = n == 12 ? FirstDayOfYear(year + 1)
                                 : ingest::DayOf(std::string(label.substr(0, 5)) +
                                                 (n < 9 ? "0" : "") + std::to_string(n + 1));
    p.last_day = next - 1;
  } else if (label.size() == 8 && label[5] == 'W' && Digits(label.substr(6, 2), &n) && n >= 1 &&
             n <= 53) {
    p.first_day = MondayOfWeekOne(year) + (n - 1) * 7;
    p.last_day = p.first_day + 6;
    if (IsoWeekLabel(p.first_day) != label) return bad();  // week 53 of a 52-week year
  } else {
    return bad();
  }
  p.start = DateLabel(p.first_day);
  p.end = DateLabel(p.last_day);
  return p;
}

}  // namespace eds::aggregate
