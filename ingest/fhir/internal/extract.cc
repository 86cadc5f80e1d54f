#include "ingest/fhir/internal/extract.h"

#include <string>
#include <utility>

namespace eds::ingest::fhir::internal {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::object;

// The string at `key` of `obj`, or empty.
std::string_view Str(object obj, std::string_view key) {
  std::string_view s;
  if (obj[key].get_string().get(s) != SUCCESS) return {};
  return s;
}

bool Obj(object parent, std::string_view key, object* out) {
  return parent[key].get_object().get(*out) == SUCCESS;
}

// The reference string of the Reference at `key`, or empty.
std::string_view RefAt(object obj, std::string_view key) {
  object ref;
  return Obj(obj, key, &ref) ? Str(ref, "reference") : std::string_view();
}

void AppendCoding(object coding, std::vector<Coding>* out) {
  const std::string_view code = Str(coding, "code");
  if (code.empty()) return;
  out->push_back(Coding{std::string(Str(coding, "system")), std::string(code)});
}

// The codings of the CodeableConcept at `key`.
void CodingsAt(object obj, std::string_view key, std::vector<Coding>* out) {
  object concept_obj;
  simdjson::dom::array codings;
  if (!Obj(obj, key, &concept_obj) || concept_obj["coding"].get_array().get(codings) != SUCCESS) {
    return;
  }
  for (element c : codings) {
    object coding;
    if (c.get_object().get(coding) == SUCCESS) AppendCoding(coding, out);
  }
}

// The first non-empty of: the string at `key`, or the start of the Period at `period_key`.
std::string_view DateOrPeriodStart(object obj, std::string_view key, std::string_view period_key) {
  std::string_view s = Str(obj, key);
  object period;
  if (s.empty() && !period_key.empty() && Obj(obj, period_key, &period)) s = Str(period, "start");
  return s;
}

// valueQuantity / valueCodeableConcept of an Observation or of one of its components.
void ObservationValue(object obj, std::optional<double>* value, std::string* unit,
                      std::vector<Coding>* codes) {
  object quantity;
  if (Obj(obj, "valueQuantity", &quantity)) {
    double v = 0;
    if (quantity["value"].get_double().get(v) == SUCCESS) *value = v;
    std::string_view u = Str(quantity, "code");
    if (u.empty()) u = Str(quantity, "unit");
    *unit = std::string(u);
  }
  CodingsAt(obj, "valueCodeableConcept", codes);
}

void ExtractPatient(object r, ParsedResource* out) {
  simdjson::dom::array ids;
  if (r["identifier"].get_array().get(ids) == SUCCESS) {
    for (element e : ids) {
      object id;
      if (e.get_object().get(id) != SUCCESS) continue;
      const std::string_view value = Str(id, "value");
      if (!value.empty()) {
        out->identifiers.push_back(Identifier{std::string(Str(id, "system")), std::string(value)});
      }
    }
  }
  out->gender = std::string(Str(r, "gender"));
  out->birth_date = std::string(Str(r, "birthDate"));
  bool deceased = false;
  if (r["deceasedBoolean"].get_bool().get(deceased) == SUCCESS) out->deceased = deceased;
  out->deceased_date_time = std::string(Str(r, "deceasedDateTime"));
  if (!out->deceased_date_time.empty()) out->deceased = true;
}

void ExtractEncounter(object r, ParsedResource* out) {
  object cls;
  if (Obj(r, "class", &cls)) {
    const size_t before = out->codes.size();
    AppendCoding(cls, &out->codes);
    if (out->codes.size() > before) out->encounter_class = out->codes.back();
  }
  simdjson::dom::array types;
  if (r["type"].get_array().get(types) == SUCCESS) {
    for (element t : types) {
      object type_obj;
      simdjson::dom::array codings;
      if (t.get_object().get(type_obj) != SUCCESS ||
          type_obj["coding"].get_array().get(codings) != SUCCESS) {
        continue;
      }
      for (element c : codings) {
        object coding;
        if (c.get_object().get(coding) == SUCCESS) AppendCoding(coding, &out->codes);
      }
    }
  }
  out->date = std::string(DateOrPeriodStart(r, {}, "period"));
  simdjson::dom::array locations;
  object first_location;
  if (r["location"].get_array().get(locations) == SUCCESS && locations.size() > 0 &&
      locations.at(0).get_object().get(first_location) == SUCCESS) {
    object location;
    if (Obj(first_location, "location", &location)) {
      out->care_unit_reference = std::string(Str(location, "reference"));
      // HL7 v2 feeds name the unit (PV1-3) without a Location resource.
      if (out->care_unit_reference.empty()) {
        out->care_unit_reference = std::string(Str(location, "display"));
      }
    }
  }
  object period;
  if (Obj(r, "period", &period)) out->end_date = std::string(Str(period, "end"));
  if (out->care_unit_reference.empty()) {
    out->care_unit_reference = std::string(RefAt(r, "serviceProvider"));
  }
  object hospitalization;
  if (Obj(r, "hospitalization", &hospitalization)) {
    CodingsAt(hospitalization, "dischargeDisposition", &out->discharge_disposition);
  }
}

void ExtractObservation(object r, ParsedResource* out) {
  CodingsAt(r, "code", &out->codes);
  std::string_view date = DateOrPeriodStart(r, "effectiveDateTime", "effectivePeriod");
  if (date.empty()) date = Str(r, "effectiveInstant");
  if (date.empty()) date = Str(r, "issued");
  out->date = std::string(date);
  ObservationValue(r, &out->value, &out->unit, &out->value_codes);
  simdjson::dom::array components;
  if (r["component"].get_array().get(components) != SUCCESS) return;
  for (element e : components) {
    object c;
    if (e.get_object().get(c) != SUCCESS) continue;
    ObservationComponent component;
    CodingsAt(c, "code", &component.codes);
    ObservationValue(c, &component.value, &component.unit, &component.value_codes);
    out->components.push_back(std::move(component));
  }
}

void ExtractClinical(object r, ParsedResource* out) {
  std::string_view date;
  switch (out->kind) {
    case ResourceKind::kCondition:
      CodingsAt(r, "code", &out->codes);
      date = DateOrPeriodStart(r, "onsetDateTime", "onsetPeriod");
      if (date.empty()) date = Str(r, "recordedDate");
      break;
    case ResourceKind::kProcedure:
      CodingsAt(r, "code", &out->codes);
      date = DateOrPeriodStart(r, "performedDateTime", "performedPeriod");
      break;
    case ResourceKind::kMedicationRequest:
      CodingsAt(r, "medicationCodeableConcept", &out->codes);
      date = Str(r, "authoredOn");
      break;
    case ResourceKind::kMedicationAdministration:
      CodingsAt(r, "medicationCodeableConcept", &out->codes);
      date = DateOrPeriodStart(r, "effectiveDateTime", "effectivePeriod");
      if (out->encounter_reference.empty()) {
        out->encounter_reference = std::string(RefAt(r, "context"));
      }
      break;
    case ResourceKind::kDiagnosticReport:
      CodingsAt(r, "code", &out->codes);
      date = DateOrPeriodStart(r, "effectiveDateTime", "effectivePeriod");
      if (date.empty()) date = Str(r, "issued");
      break;
    case ResourceKind::kImmunization:
      CodingsAt(r, "vaccineCode", &out->codes);
      date = Str(r, "occurrenceDateTime");
      break;
    case ResourceKind::kAllergyIntolerance:
      CodingsAt(r, "code", &out->codes);
      date = Str(r, "recordedDate");
      if (date.empty()) date = Str(r, "onsetDateTime");
      break;
    default:
      return;
  }
  out->date = std::string(date);
}

}  // namespace

ResourceKind KindOf(std::string_view t) {
  static constexpr std::pair<std::string_view, ResourceKind> kKinds[] = {
      {"Patient", ResourceKind::kPatient},
      {"Encounter", ResourceKind::kEncounter},
      {"Condition", ResourceKind::kCondition},
      {"Observation", ResourceKind::kObservation},
      {"Procedure", ResourceKind::kProcedure},
      {"MedicationRequest", ResourceKind::kMedicationRequest},
      {"MedicationAdministration", ResourceKind::kMedicationAdministration},
      {"DiagnosticReport", ResourceKind::kDiagnosticReport},
      {"Immunization", ResourceKind::kImmunization},
      {"AllergyIntolerance", ResourceKind::kAllergyIntolerance},
  };
  for (const auto& [name, kind] : kKinds) {
    if (name == t) return kind;
  }
  return ResourceKind::kOther;
}

void ExtractFields(object r, ParsedResource* out) {
  out->status = std::string(Str(r, "status"));
  if (out->status.empty()) {
    // Condition and AllergyIntolerance say "entered-in-error" in verificationStatus.
    std::vector<Coding> verification;
    CodingsAt(r, "verificationStatus", &verification);
    for (const auto& c : verification) {
      if (c.code == "entered-in-error") out->status = c.code;
    }
  }
  std::string_view subject = RefAt(r, "subject");
  if (subject.empty()) subject = RefAt(r, "patient");
  out->subject_reference = std::string(subject);
  out->encounter_reference = std::string(RefAt(r, "encounter"));
  switch (out->kind) {
    case ResourceKind::kOther:
      return;
    case ResourceKind::kPatient:
      ExtractPatient(r, out);
      return;
    case ResourceKind::kEncounter:
      ExtractEncounter(r, out);
      return;
    case ResourceKind::kObservation:
      ExtractObservation(r, out);
      return;
    default:
      ExtractClinical(r, out);
      return;
  }
}

}  // namespace eds::ingest::fhir::internal
