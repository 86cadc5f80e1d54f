// CronSchedule: a five-field cron expression (minute hour day-of-month month day-of-week), as
// Vixie cron reads it, and the next time it fires in an IANA time zone.
//
// Fields accept `*`, lists, ranges and steps (`1,5`, `1-5`, `*/15`, `1-5/2`); months and week days
// accept English three-letter names in any case (JAN-DEC, SUN-SAT); 0 and 7 are both Sunday.
// As in Vixie cron, when neither day field starts with `*`, a day matching either one fires.
// Macros: @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually).
//
// Wall times are resolved in the zone given to NextFire(): a time skipped by a DST change fires at
// the first instant after the gap, a time that happens twice fires once, at its first occurrence.
// Immutable after Parse(), so one schedule may be shared between threads.
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::sync {

class CronSchedule {
 public:
  // Errors: kInvalidArgument naming the field and the offending token.
  static Result<CronSchedule> Parse(std::string_view expression);

  // The first fire time strictly after `after`, in the IANA zone `zone` (e.g. "Europe/Paris").
  // Errors: kInvalidArgument for an unknown zone; kNotFound when nothing fires within five years
  // (e.g. `0 0 30 2 *`); kInternal when the time zone library fails.
  Result<std::chrono::system_clock::time_point> NextFire(
      std::chrono::system_clock::time_point after, std::string_view zone) const;

  // The expression as given to Parse(), for logs and error messages.
  const std::string& expression() const { return expression_; }

 private:
  CronSchedule() = default;
  bool DayMatches(int day_of_month, int month, int day_of_week) const;

  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // Bits 1-31.
  std::bitset<13> months_;         // Bits 1-12.
  std::bitset<7> days_of_week_;    // 0 = Sunday.
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

// OK when `zone` is an IANA time zone name this box knows; else kInvalidArgument.
Status CheckTimeZone(std::string_view zone);

// `fire_time` plus an offset in [0, window) taken from a keyed BLAKE2b hash of the fire time under
// `node_seed` (16 to 64 secret bytes, e.g. from the node identity): each node of a fleet lands at
// its own point in the window, and the same node always lands at the same point for a given fire.
// A zero window returns `fire_time`. Errors: kInvalidArgument (seed size, negative window).
Result<std::chrono::system_clock::time_point> JitteredFire(
    std::chrono::system_clock::time_point fire_time, std::chrono::milliseconds window,
    std::string_view node_seed);

}  // namespace eds::sync
