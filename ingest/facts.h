// Analytic facts: the few fields of a resource that measures count on (what, when, who, where),
// extracted at ingest so the aggregate engine never parses a record. Facts are stored next to
// their record, encrypted under the same patient data key (Store RecordWrite::facts) and laid
// out patient by patient: a scan meets each patient's demographics and events together.
//
// A patient's demographics are a fact of its Patient record: sex, birth month (never the exact
// birth date) and death day. Events carry the age at the event and the sex when the patient was
// known in the same message or Bundle; otherwise a scan completes them from the demographics
// (CompleteFromDemographics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ingest/fhir/reader.h"

namespace eds::ingest {

inline constexpr int32_t kUnknownDay = INT32_MIN;
inline constexpr int32_t kUnknownAge = -1;

// Code systems measures name, kept as one byte; anything else keeps its URI.
enum class CodeSystem : uint8_t {
  kOther = 0,
  kIcd10 = 1,  // ICD-10 and its national editions (CIM-10, ICD-10-CM)
  kLoinc = 2,
  kSnomed = 3,
  kAtc = 4,
  kRxNorm = 5,
  kCvx = 6,
  kActCode = 7,  // HL7 v3 ActCode: Encounter.class (AMB, IMP, EMER, ...)
};

enum class Sex : uint8_t { kUnknown = 0, kMale = 1, kFemale = 2, kOther = 3 };

enum class FactType : uint8_t {
  kPatient = 1,  // demographics
  kEncounter = 2,
  kCondition = 3,
  kObservation = 4,
  kProcedure = 5,
  kMedicationRequest = 6,
  kMedicationAdministration = 7,
  kDiagnosticReport = 8,
  kImmunization = 9,
  kAllergyIntolerance = 10,
};

struct FactCode {
  CodeSystem system = CodeSystem::kOther;
  std::string system_uri;  // only for kOther
  std::string code;
  bool operator==(const FactCode&) const = default;
};

struct Fact {
  FactType type = FactType::kObservation;
  std::vector<FactCode> codes;       // the main code's codings (Encounter: class and type)
  int32_t day = kUnknownDay;         // days since 1970-01-01 of the event (Patient: birth month)
  int32_t end_day = kUnknownDay;     // Encounter: end of the stay; Patient: death
  int32_t age_months = kUnknownAge;  // age at the event
  Sex sex = Sex::kUnknown;
  bool deceased = false;              // Patient only
  std::string encounter_class;        // v3 ActCode (AMB, IMP, EMER, ...)
  std::string care_unit;              // Location reference or unit name
  std::optional<double> value;        // Observation value (or component value)
  std::string unit;                   // UCUM
  std::vector<FactCode> value_codes;  // Observation valueCodeableConcept (e.g. "detected")
  std::vector<FactCode> discharge;    // Encounter discharge disposition
  bool operator==(const Fact&) const = default;
};

struct Demographics {
  Sex sex = Sex::kUnknown;
  int32_t birth_day = kUnknownDay;  // middle of the birth month
  int32_t death_day = kUnknownDay;
  bool deceased = false;
};

CodeSystem CodeSystemOf(std::string_view uri);
// Days since 1970-01-01 of the date part of a FHIR date/dateTime/instant ("2024", "2024-03",
// "2024-03-05", "2024-03-05T10:00:00+01:00": the date as written, partial dates at their first
// day); kUnknownDay when malformed.
int32_t DayOf(std::string_view fhir_date);
// The civil date of a day number: {year, month 1..12, day 1..31}.
struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};
CivilDate CivilOf(int32_t day);
int32_t AgeMonths(int32_t birth_day, int32_t event_day);

Demographics DemographicsOf(const fhir::ParsedResource& patient);
// The facts of a validated resource: none for entered-in-error resources and types no measure
// uses. `known` (may be null) fills age and sex of events.
std::vector<Fact> ExtractFacts(const fhir::ParsedResource& resource, const Demographics* known);
// Fills unknown age and sex of events from the patient's demographics.
void CompleteFromDemographics(const Demographics& d, std::vector<Fact>* facts);

// Compact binary form (docs/formats/facts.md); Decode errors: kDataLoss.
std::string EncodeFacts(const std::vector<Fact>& facts);
Result<std::vector<Fact>> DecodeFacts(std::string_view bytes);

}  // namespace eds::ingest
