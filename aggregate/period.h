// Release periods: a calendar month ("2025-01") or an ISO 8601 week ("2025-W03"), as inclusive
// day ranges (days since 1970-01-01).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::aggregate {

struct Period {
  std::string label;  // "2025-01" or "2025-W03"
  int32_t first_day = 0;
  int32_t last_day = 0;
  std::string start;  // FHIR date of the first day
  std::string end;    // FHIR date of the last day
};

// Errors: kInvalidArgument for anything but YYYY-MM or YYYY-Www of an existing week.
Result<Period> ParsePeriod(std::string_view label);
// The ISO week label of a day ("2025-W03").
std::string IsoWeekLabel(int32_t day);
// The month label of a day ("2025-01").
std::string MonthLabel(int32_t day);
std::string DateLabel(int32_t day);  // "2025-01-31"

}  // namespace eds::aggregate
