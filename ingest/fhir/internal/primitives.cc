#include "ingest/fhir/internal/primitives.h"

namespace eds::ingest::fhir::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[*pos]; false (and *pos unchanged) when they are not there.
bool ReadDigits(std::string_view s, size_t* pos, int n, int* value) {
  if (*pos + static_cast<size_t>(n) > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[*pos + static_cast<size_t>(i)];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(n);
  *value = v;
  return true;
}

bool Consume(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Year, then optionally -MM and -DD. Sets *full when the day was present.
bool ParseDate(std::string_view s, size_t* pos, bool* full) {
  int year = 0;
  int month = 0;
  int day = 0;
  *full = false;
  if (!ReadDigits(s, pos, 4, &year) || year == 0) return false;
  if (!Consume(s, pos, '-')) return true;
  if (!ReadDigits(s, pos, 2, &month) || month < 1 || month > 12) return false;
  if (!Consume(s, pos, '-')) return true;
  if (!ReadDigits(s, pos, 2, &day) || day < 1 || day > DaysInMonth(year, month)) return false;
  *full = true;
  return true;
}

// hh:mm:ss with optional fraction; 60 seconds allowed for leap seconds, as the regex does.
bool ParseTime(std::string_view s, size_t* pos) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadDigits(s, pos, 2, &hour) || hour > 23 || !Consume(s, pos, ':')) return false;
  if (!ReadDigits(s, pos, 2, &minute) || minute > 59 || !Consume(s, pos, ':')) return false;
  if (!ReadDigits(s, pos, 2, &second) || second > 60) return false;
  if (Consume(s, pos, '.')) {
    const size_t start = *pos;
    while (*pos < s.size() && IsDigit(s[*pos])) ++*pos;
    if (*pos == start) return false;
  }
  return true;
}

// Z, or +hh:mm / -hh:mm with hh up to 13, or exactly 14:00.
bool ParseZone(std::string_view s, size_t* pos) {
  if (Consume(s, pos, 'Z')) return true;
  if (!Consume(s, pos, '+') && !Consume(s, pos, '-')) return false;
  int hour = 0;
  int minute = 0;
  if (!ReadDigits(s, pos, 2, &hour) || !Consume(s, pos, ':')) return false;
  if (!ReadDigits(s, pos, 2, &minute) || minute > 59) return false;
  return hour <= 13 || (hour == 14 && minute == 0);
}

bool ParseTimeAndZone(std::string_view s, size_t* pos) {
  return Consume(s, pos, 'T') && ParseTime(s, pos) && ParseZone(s, pos);
}

bool IsCodeSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

bool IsFhirId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok =
        IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsFhirCode(std::string_view s) {
  if (s.empty() || IsCodeSpace(s.front()) || IsCodeSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsCodeSpace(s[i]) && IsCodeSpace(s[i - 1])) return false;
  }
  return true;
}

bool IsFhirDate(std::string_view s) {
  size_t pos = 0;
  bool full = false;
  return ParseDate(s, &pos, &full) && pos == s.size();
}

bool IsFhirDateTime(std::string_view s) {
  size_t pos = 0;
  bool full = false;
  if (!ParseDate(s, &pos, &full)) return false;
  if (pos == s.size()) return true;
  return full && ParseTimeAndZone(s, &pos) && pos == s.size();
}

bool IsFhirInstant(std::string_view s) {
  size_t pos = 0;
  bool full = false;
  return ParseDate(s, &pos, &full) && full && ParseTimeAndZone(s, &pos) && pos == s.size();
}

bool IsFhirTime(std::string_view s) {
  size_t pos = 0;
  return ParseTime(s, &pos) && pos == s.size();
}

}  // namespace eds::ingest::fhir::internal
