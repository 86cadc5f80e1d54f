#include "sync/cron.h"

#include <sodium.h>
#include <unicode/calendar.h>
#include <unicode/gregocal.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/status_macros.h"

namespace eds::sync {
namespace {

using std::chrono::system_clock;

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // Three-letter names for min, min+1, ...; nullptr if none.
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// Day-of-week admits 7 so that both 0 and 7 mean Sunday; it is folded onto 0 when stored.
constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
}};

// Far enough for any real schedule (leap days recur every 4 years, most every 8 at worst across a
// century year), near enough that an impossible expression answers quickly.
constexpr int kSearchDays = 5 * 366;

Status FieldError(const FieldSpec& field, std::string_view token, std::string_view why) {
  return InvalidArgumentError("cron field " + std::string(field.name) + ": bad token '" +
                              std::string(token) + "' (" + std::string(why) + ")");
}

std::string AllowedRange(const FieldSpec& field) {
  return "allowed " + std::to_string(field.min) + "-" + std::to_string(field.max);
}

// A number or (for months and week days) a name. `item` is the whole list item, for errors.
Result<int> ParseValue(const FieldSpec& field, std::string_view text, std::string_view item) {
  if (text.empty()) return FieldError(field, item, "missing value");
  if (std::isdigit(static_cast<unsigned char>(text[0])) != 0) {
    int value = 0;
    for (char c : text) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
        return FieldError(field, item, "not a number");
      }
      value = value * 10 + (c - '0');
      if (value > 1000) break;  // Out of range anyway; stops overflow on long digit runs.
    }
    if (value < field.min || value > field.max) return FieldError(field, item, AllowedRange(field));
    return value;
  }
  if (field.names != nullptr && text.size() == 3) {
    const int count = field.names == kMonthNames ? 12 : 7;
    for (int i = 0; i < count; ++i) {
      const char* name = field.names[i];
      bool same = true;
      for (size_t k = 0; k < 3; ++k) {
        same = same && std::toupper(static_cast<unsigned char>(text[k])) == name[k];
      }
      if (same) return field.min + i;
    }
  }
  return FieldError(field, item, field.names != nullptr ? "not a number or name" : "not a number");
}

// Parses one field into the values it allows (in the field's own numbering).
Result<std::vector<bool>> ParseField(const FieldSpec& field, std::string_view text) {
  std::vector<bool> allowed(static_cast<size_t>(field.max + 1), false);
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return FieldError(field, text, "empty list item");

    std::string_view range = item;
    int step = 1;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      bool digits = !step_text.empty() && step_text.size() <= 3;
      step = 0;
      for (char c : step_text) {
        digits = digits && std::isdigit(static_cast<unsigned char>(c)) != 0;
        step = step * 10 + (c - '0');
      }
      if (!digits) return FieldError(field, item, "step is not a number");
      if (step < 1) return FieldError(field, item, "step must be at least 1");
    }

    int low = field.min;
    int high = field.max;
    if (range == "*") {
      // The whole range; Vixie cron has no 7 in `*` for week days, and 0 is already Sunday.
      if (field.names == kDayNames) high = 6;
    } else {
      const size_t dash = range.find('-');
      EDS_ASSIGN_OR_RETURN(low, ParseValue(field, range.substr(0, dash), item));
      if (dash == std::string_view::npos) {
        // As in Vixie cron, a step needs a range: `5/15` is an error, not `5-59/15`.
        if (item.find('/') != std::string_view::npos) {
          return FieldError(field, item, "a step needs a range or *");
        }
        high = low;
      } else {
        EDS_ASSIGN_OR_RETURN(high, ParseValue(field, range.substr(dash + 1), item));
        if (high < low) return FieldError(field, item, "range is reversed");
      }
    }
    for (int v = low; v <= high; v += step) allowed[static_cast<size_t>(v)] = true;

    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return allowed;
}

std::string_view ExpandMacro(std::string_view expression) {
  std::string lower(expression);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "@hourly") return "0 * * * *";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  return {};
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    const size_t begin = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) ++i;
    if (i > begin) out.push_back(text.substr(begin, i - begin));
  }
  return out;
}

Result<std::unique_ptr<icu::Calendar>> CalendarFor(std::string_view zone) {
  const icu::UnicodeString id = icu::UnicodeString::fromUTF8(
      icu::StringPiece(zone.data(), static_cast<int32_t>(zone.size())));
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString canonical;
  UBool is_system_id = false;
  icu::TimeZone::getCanonicalID(id, canonical, is_system_id, status);
  // Custom ids such as "GMT+01:00" canonicalise too, but have no DST rules: only IANA names pass.
  if (U_FAILURE(status) || !is_system_id || canonical == UNICODE_STRING_SIMPLE("Etc/Unknown")) {
    return InvalidArgumentError("unknown time zone '" + std::string(zone) + "'");
  }
  status = U_ZERO_ERROR;
  auto calendar = std::make_unique<icu::GregorianCalendar>(icu::TimeZone::createTimeZone(id),
                                                           status);  // Adopts the zone.
  if (U_FAILURE(status)) {
    return InternalError("cannot create a calendar for " + std::string(zone) + ": " +
                         u_errorName(status));
  }
  // Proleptic Gregorian throughout; Julian dates before 1582 never matter here.
  calendar->setGregorianChange(-8.64e15, status);
  calendar->setSkippedWallTimeOption(UCAL_WALLTIME_NEXT_VALID);
  calendar->setRepeatedWallTimeOption(UCAL_WALLTIME_FIRST);
  if (U_FAILURE(status)) return InternalError(std::string("ICU: ") + u_errorName(status));
  return std::unique_ptr<icu::Calendar>(std::move(calendar));
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  std::string_view text = expression;
  const std::vector<std::string_view> words = SplitFields(expression);
  if (words.size() == 1 && words[0].front() == '@') {
    text = ExpandMacro(words[0]);
    if (text.empty()) {
      return InvalidArgumentError("unknown cron macro '" + std::string(words[0]) + "'");
    }
  }
  const std::vector<std::string_view> fields = SplitFields(text);
  if (fields.size() != kFields.size()) {
    return InvalidArgumentError("cron expression '" + std::string(expression) + "' has " +
                                std::to_string(fields.size()) +
                                " fields; expected 5 (minute hour day-of-month month day-of-week)");
  }
  std::array<std::vector<bool>, 5> allowed;
  for (size_t i = 0; i < kFields.size(); ++i) {
    EDS_ASSIGN_OR_RETURN(allowed[i], ParseField(kFields[i], fields[i]));
  }

  CronSchedule schedule;
  schedule.expression_ = std::string(expression);
  for (size_t v = 0; v < 60; ++v) schedule.minutes_[v] = allowed[0][v];
  for (size_t v = 0; v < 24; ++v) schedule.hours_[v] = allowed[1][v];
  for (size_t v = 1; v <= 31; ++v) schedule.days_of_month_[v] = allowed[2][v];
  for (size_t v = 1; v <= 12; ++v) schedule.months_[v] = allowed[3][v];
  for (size_t v = 0; v <= 7; ++v) {
    if (allowed[4][v]) schedule.days_of_week_[v % 7] = true;
  }
  // Vixie cron's own test for "restricted": the field does not start with `*` (so `*/2` counts
  // as unrestricted). Kept as is, since that is what existing crontabs were written against.
  schedule.day_of_month_star_ = fields[2].front() == '*';
  schedule.day_of_week_star_ = fields[4].front() == '*';
  return schedule;
}

bool CronSchedule::DayMatches(int day_of_month, int month, int day_of_week) const {
  if (!months_[static_cast<size_t>(month)]) return false;
  const bool dom = days_of_month_[static_cast<size_t>(day_of_month)];
  const bool dow = days_of_week_[static_cast<size_t>(day_of_week)];
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

Result<system_clock::time_point> CronSchedule::NextFire(system_clock::time_point after,
                                                        std::string_view zone) const {
  EDS_ASSIGN_OR_RETURN(std::unique_ptr<icu::Calendar> calendar, CalendarFor(zone));
  UErrorCode status = U_ZERO_ERROR;
  const auto after_ms = std::chrono::floor<std::chrono::milliseconds>(after);
  calendar->setTime(static_cast<UDate>(after_ms.time_since_epoch().count()), status);
  const int year = calendar->get(UCAL_YEAR, status);
  const int month = calendar->get(UCAL_MONTH, status) + 1;
  const int day = calendar->get(UCAL_DATE, status);
  if (U_FAILURE(status)) return InternalError(std::string("ICU: ") + u_errorName(status));

  // Walk local calendar days from the local date of `after`, and within a matching day every
  // allowed wall time in order. Resolved instants never go backwards as wall time advances, so
  // the first one past `after` is the answer; gap times resolving to the same instant fire once.
  std::chrono::sys_days date = std::chrono::year_month_day(
      std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
      std::chrono::day(static_cast<unsigned>(day)));
  for (int i = 0; i <= kSearchDays; ++i, date += std::chrono::days(1)) {
    const std::chrono::year_month_day ymd(date);
    const int dom = static_cast<int>(static_cast<unsigned>(ymd.day()));
    const int mon = static_cast<int>(static_cast<unsigned>(ymd.month()));
    const int dow = static_cast<int>(std::chrono::weekday(date).c_encoding());
    if (!DayMatches(dom, mon, dow)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[static_cast<size_t>(h)]) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_[static_cast<size_t>(m)]) continue;
        calendar->clear();
        calendar->set(static_cast<int>(ymd.year()), mon - 1, dom, h, m, 0);
        const UDate fire_ms = calendar->getTime(status);
        if (U_FAILURE(status)) return InternalError(std::string("ICU: ") + u_errorName(status));
        const system_clock::time_point fire(
            std::chrono::milliseconds(static_cast<int64_t>(fire_ms)));
        if (fire > after) return fire;
      }
    }
  }
  return NotFoundError("cron expression '" + expression_ + "' does not fire within " +
                       std::to_string(kSearchDays) + " days");
}

Result<system_clock::time_point> JitteredFire(system_clock::time_point fire_time,
                                              std::chrono::milliseconds window,
                                              std::string_view node_seed) {
  if (node_seed.size() < crypto_generichash_KEYBYTES_MIN ||
      node_seed.size() > crypto_generichash_KEYBYTES_MAX) {
    return InvalidArgumentError("jitter seed must be " +
                                std::to_string(crypto_generichash_KEYBYTES_MIN) + " to " +
                                std::to_string(crypto_generichash_KEYBYTES_MAX) + " bytes, got " +
                                std::to_string(node_seed.size()));
  }
  if (window.count() < 0) return InvalidArgumentError("jitter window must not be negative");
  if (window.count() == 0) return fire_time;

  // Domain-separated message: the same seed may key other hashes elsewhere.
  const int64_t fire_ms =
      std::chrono::floor<std::chrono::milliseconds>(fire_time).time_since_epoch().count();
  constexpr std::string_view kDomain = "eds.sync.jitter.v1";
  std::array<unsigned char, kDomain.size() + 8> message{};
  for (size_t i = 0; i < kDomain.size(); ++i) message[i] = static_cast<unsigned char>(kDomain[i]);
  for (size_t i = 0; i < 8; ++i) {
    message[kDomain.size() + i] =
        static_cast<unsigned char>(static_cast<uint64_t>(fire_ms) >> (8 * i));
  }
  std::array<unsigned char, 8> digest{};
  crypto_generichash(digest.data(), digest.size(), message.data(), message.size(),
                     reinterpret_cast<const unsigned char*>(node_seed.data()), node_seed.size());
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= static_cast<uint64_t>(digest[i]) << (8 * i);
  // The modulo bias is below 2^-40 for any window shorter than a year.
  const uint64_t offset = value % static_cast<uint64_t>(window.count());
  return fire_time + std::chrono::milliseconds(static_cast<int64_t>(offset));
}

Status CheckTimeZone(std::string_view zone) { return CalendarFor(zone).status(); }

}  // namespace eds::sync
