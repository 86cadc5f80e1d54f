// Checks of FHIR R4 primitive values against the regular expressions of the specification
// (hl7.org/fhir/R4/datatypes.html), written by hand because std::regex is far too slow for the
// ingest rate. Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace eds::ingest::fhir::internal {

// id: [A-Za-z0-9\-\.]{1,64}
bool IsFhirId(std::string_view s);
// code: [^\s]+(\s[^\s]+)*
bool IsFhirCode(std::string_view s);
// date: YYYY, YYYY-MM or YYYY-MM-DD; the day must exist in that month (the regex alone would
// let 1980-02-31 through).
bool IsFhirDate(std::string_view s);
// dateTime: a date, or YYYY-MM-DDThh:mm:ss(.sss)?(Z|+hh:mm|-hh:mm).
bool IsFhirDateTime(std::string_view s);
// instant: YYYY-MM-DDThh:mm:ss(.sss)?(Z|+hh:mm|-hh:mm), time zone required.
bool IsFhirInstant(std::string_view s);
// time: hh:mm:ss(.sss)?
bool IsFhirTime(std::string_view s);

}  // namespace eds::ingest::fhir::internal
