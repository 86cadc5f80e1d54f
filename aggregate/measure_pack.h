// Measure packs: versioned JSON files of measures (docs/formats/measure_pack.md). A measure
// names a population of facts (resource type, codes from one or more systems, a date window
// relative to the release period, optional encounter class and care unit), how it is
// stratified, and whether it counts distinct patients or events. Parsing refuses a bad pack with
// an error naming the measure and the field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/facts.h"

namespace eds::aggregate {

// Codes of one system a population accepts: exact codes and code prefixes (ICD-10 "E11"
// matches "E119"). Both empty: any code of the system.
struct CodeFilter {
  ingest::CodeSystem system = ingest::CodeSystem::kOther;
  std::string system_uri;  // for kOther
  std::vector<std::string> codes;
  std::vector<std::string> prefixes;
};

enum class Counting { kPatients, kEvents };

enum class Component {
  kAgeBand,         // age at the event, in the measure's bands
  kSex,             // administrative gender
  kMonth,           // calendar month of the event (YYYY-MM)
  kIsoWeek,         // ISO 8601 week of the event (YYYY-Www)
  kEncounterClass,  // v3 ActCode
  kCareUnit,
  kIcd10Chapter,  // the ICD-10 chapter (I..XXII) of the event's ICD-10 code
};

struct Stratifier {
  std::string id;  // unique within the measure
  std::vector<Component> components;
};

struct Population {
  ingest::FactType resource = ingest::FactType::kEncounter;
  std::vector<CodeFilter> codes;        // any one matches; empty: every event of the type
  std::vector<CodeFilter> value_codes;  // Observation value codes; empty: any value
  std::vector<std::string> encounter_class;
  std::vector<std::string> care_unit;
  // Patient deaths: the event day is the day of death; with `death_in_class`, only deaths
  // during an encounter of one of those classes (in-hospital deaths).
  bool deaths = false;
  std::vector<std::string> death_in_class;
  // The window relative to the period: events from start + start_offset_days to
  // end + end_offset_days (inclusive) count.
  int32_t start_offset_days = 0;
  int32_t end_offset_days = 0;
};

struct Measure {
  std::string url;  // canonical
  std::string version;
  std::string title;
  std::string description;
  Population population;
  Counting counting = Counting::kPatients;
  std::vector<int> age_bands;  // lower bounds in years, ascending, starting at 0
  std::vector<Stratifier> stratifiers;
};

struct MeasurePack {
  std::string id;
  std::string version;
  std::string title;
  std::vector<Measure> measures;
};

// Errors: kInvalidArgument naming the measure (its url, else its index) and the field.
Result<MeasurePack> ParseMeasurePack(std::string_view json);
Result<MeasurePack> LoadMeasurePack(const std::string& path);

// The label of an age in months under `bands` ("0-17", "75+").
std::string AgeBandLabel(const std::vector<int>& bands, int32_t age_months);
// ICD-10 chapter (Roman numeral) of a code without dot, "" when none.
std::string Icd10Chapter(std::string_view code);
std::string_view ComponentName(Component c);

}  // namespace eds::aggregate
