#include "ingest/v2_to_fhir.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>
#include <optional>

#include "ingest/fhir/reader.h"

namespace eds::ingest {
namespace {

using hl7::Hl7Error;
using hl7::Hl7ErrorCode;
using hl7::Hl7Message;
using hl7::Segment;

std::string S(std::string_view v) { return std::string(v); }

// Writes one resource's compact JSON straight to text: messages arrive by the thousand a second,
// and a document tree per resource cost more than everything else the mapping does. Elements
// come in the order written; the caller writes an element only once it knows it has content.
class ResourceWriter {
 public:
  ResourceWriter(std::string_view type, std::string_view id) : writer_(buffer_) {
    writer_.StartObject();
    Field("resourceType", type);
    Field("id", id);
  }

  void Key(std::string_view key) { writer_.Key(key.data(), Size(key)); }
  void String(std::string_view value) { writer_.String(value.data(), Size(value)); }
  void Field(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }
  // `number` is already JSON number text (see JsonDecimal), so its precision is kept as sent.
  void Number(std::string_view key, std::string_view number) {
    Key(key);
    writer_.RawValue(number.data(), number.size(), rapidjson::kNumberType);
  }
  void Bool(std::string_view key, bool value) {
    Key(key);
    writer_.Bool(value);
  }
  void Reference(std::string_view key, std::string_view reference) {
    Key(key);
    Reference(reference);
  }
  void Reference(std::string_view reference) {  // an array's item
    StartObject();
    Field("reference", reference);
    EndObject();
  }
  void StartObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void StartArray(std::string_view key) {
    Key(key);
    writer_.StartArray();
  }
  void EndArray() { writer_.EndArray(); }

  std::string Finish() {
    writer_.EndObject();
    return std::string(buffer_.GetString(), buffer_.GetSize());
  }

 private:
  static rapidjson::SizeType Size(std::string_view s) {
    return static_cast<rapidjson::SizeType>(s.size());
  }

  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// Stable short id from text (FNV-1a 64): the same visit number gives the same Encounter id.
std::string ShortHash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xF];
  return out;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// HL7 table 0396 coding-system names to FHIR system URIs, for the common ones.
std::string CodeSystemUri(std::string_view v2) {
  if (v2 == "LN" || v2 == "LOINC") return "http://loinc.org";
  if (v2 == "SCT" || v2 == "SNM" || v2 == "SNOMED") return "http://snomed.info/sct";
  if (v2 == "I10" || v2 == "ICD10" || v2 == "CIM10" || v2 == "I10C")
    return "http://hl7.org/fhir/sid/icd-10";
  if (v2 == "UCUM") return "http://unitsofmeasure.org";
  if (v2 == "ATC" || v2 == "WHOATC") return "http://www.whocc.no/atc";
  if (v2.empty()) return "";
  return "urn:hl7v2:codesystem:" + std::string(v2);
}

// Whether the CE/CWE at (field, repetition) has a code in either triplet.
bool HasCode(const Segment& s, int field, int rep = 1) {
  return !s.Value(field, rep, 1).empty() || !s.Value(field, rep, 4).empty();
}

// CE/CWE at (field, repetition) -> CodeableConcept under `key`; call only when HasCode.
void WriteCodeableConcept(ResourceWriter& w, std::string_view key, const Segment& s, int field,
                          int rep = 1) {
  w.Key(key);
  w.StartObject();
  w.StartArray("coding");
  for (int base : {1, 4}) {  // identifier^text^system and the alternate triplet
    const std::string_view code = s.Value(field, rep, base);
    if (code.empty()) continue;
    w.StartObject();
    w.Field("code", code);
    if (auto sys = CodeSystemUri(s.Value(field, rep, base + 2)); !sys.empty()) {
      w.Field("system", sys);
    }
    if (auto text = s.Value(field, rep, base + 1); !text.empty()) w.Field("display", text);
    w.EndObject();
  }
  w.EndArray();
  if (auto text = s.Value(field, rep, 2); !text.empty()) w.Field("text", text);
  w.EndObject();
}

// A CodeableConcept of one coding under `key` (in an array when `key` is empty).
void WriteCoding(ResourceWriter& w, std::string_view key, std::string_view system,
                 std::string_view code) {
  if (!key.empty()) w.Key(key);
  w.StartObject();
  w.StartArray("coding");
  w.StartObject();
  if (!system.empty()) w.Field("system", system);
  w.Field("code", code);
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

// A control id as part of a FHIR id ([A-Za-z0-9-.]{1,64}, the "-obxN" suffix included): as sent
// when it fits, else its hash, so a long or unusual MSH-10 still gives a valid, stable id.
std::string IdPart(std::string_view control_id) {
  constexpr size_t kMaxLength = 32;
  const bool fits = control_id.size() <= kMaxLength && fhir::IsValidId(control_id);
  return fits ? std::string(control_id) : "h" + ShortHash(control_id);
}

// An HL7 NM value ([+-] digits [. digits], at least one digit) as a JSON number with the digits
// sent, so "7.20" stays 7.20 (FHIR keeps a decimal's precision); nullopt when not a number.
std::optional<std::string> JsonDecimal(std::string_view nm) {
  std::string out;
  size_t i = 0;
  if (i < nm.size() && (nm[i] == '+' || nm[i] == '-')) {
    if (nm[i] == '-') out.push_back('-');
    ++i;
  }
  const size_t int_start = i;
  while (i < nm.size() && std::isdigit(static_cast<unsigned char>(nm[i]))) ++i;
  std::string_view whole = nm.substr(int_start, i - int_start);
  std::string_view fraction;
  if (i < nm.size() && nm[i] == '.') {
    const size_t frac_start = ++i;
    while (i < nm.size() && std::isdigit(static_cast<unsigned char>(nm[i]))) ++i;
    fraction = nm.substr(frac_start, i - frac_start);
  }
  if (i != nm.size() || (whole.empty() && fraction.empty())) return std::nullopt;
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);  // JSON: no "007"
  out += whole.empty() ? "0" : whole;
  if (!fraction.empty()) {
    out.push_back('.');
    out += fraction;
  }
  return out;
}

std::string Gender(std::string_view v2) {
  if (v2 == "M") return "male";
  if (v2 == "F") return "female";
  if (v2 == "O" || v2 == "A") return "other";
  return "unknown";
}

// PV1-2 patient class to the v3 ActCode the FHIR Encounter.class uses.
void WriteEncounterClass(ResourceWriter& w, std::string_view v2) {
  std::string_view code = "AMB", display = "ambulatory";
  if (v2 == "I") code = "IMP", display = "inpatient encounter";
  if (v2 == "E") code = "EMER", display = "emergency";
  if (v2 == "P") code = "PRENC", display = "pre-admission";
  if (v2 == "R") code = "IMP", display = "inpatient encounter";  // recurring stays
  if (v2 == "B" || v2 == "C" || v2 == "N" || v2 == "U") code = "AMB";
  w.Key("class");
  w.StartObject();
  w.Field("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  w.Field("code", code);
  w.Field("display", display);
  w.EndObject();
}

std::string EncounterStatus(std::string_view trigger) {
  if (trigger == "A03") return "finished";
  if (trigger == "A05" || trigger == "A14") return "planned";
  if (trigger == "A11" || trigger == "A13") return trigger == "A11" ? "cancelled" : "in-progress";
  return "in-progress";
}

std::string ObservationStatus(std::string_view v2) {
  if (v2 == "P" || v2 == "R" || v2 == "S") return "preliminary";
  if (v2 == "C") return "corrected";
  if (v2 == "D" || v2 == "W") return "entered-in-error";
  if (v2 == "X") return "cancelled";
  if (v2 == "I" || v2 == "O") return "registered";
  return "final";
}

std::string PatientResource(const Segment& pid, const std::string& patient_id,
                            const std::string& offset, const std::vector<Identifier>& ids) {
  ResourceWriter w("Patient", patient_id);
  w.StartArray("identifier");
  for (const auto& id : ids) {
    w.StartObject();
    if (!id.system.empty()) {
      w.Field("system", AllDigits(std::string_view(id.system).substr(0, 1)) ? "urn:oid:" + id.system
                                                                            : id.system);
    }
    w.Field("value", id.value);
    if (!id.type.empty()) WriteCoding(w, "type", "", id.type);
    w.EndObject();
  }
  w.EndArray();

  bool names = false;
  for (int r = 1; r <= pid.RepetitionCount(5); ++r) {
    const std::string_view family = pid.Value(5, r, 1), use = pid.Value(5, r, 7);
    const std::string_view given[] = {pid.Value(5, r, 2), pid.Value(5, r, 3)};
    const std::string_view fhir_use = use == "L"   ? "official"
                                      : use == "M" ? "maiden"
                                      : use == "D" ? "usual"
                                                   : "";
    if (family.empty() && given[0].empty() && given[1].empty() && fhir_use.empty()) continue;
    if (!names) w.StartArray("name");
    names = true;
    w.StartObject();
    if (!family.empty()) w.Field("family", family);
    if (!given[0].empty() || !given[1].empty()) {
      w.StartArray("given");
      for (auto g : given) {
        if (!g.empty()) w.String(g);
      }
      w.EndArray();
    }
    if (!fhir_use.empty()) w.Field("use", fhir_use);
    w.EndObject();
  }
  if (names) w.EndArray();
  if (auto sex = pid.Value(8); !sex.empty()) w.Field("gender", Gender(sex));
  if (auto birth = V2TimestampToFhir(pid.Value(7).substr(0, 8), offset); !birth.empty()) {
    w.Field("birthDate", birth);
  }
  bool addresses = false;
  for (int r = 1; r <= pid.RepetitionCount(11); ++r) {
    const std::string_view line = pid.Value(11, r, 1), city = pid.Value(11, r, 3),
                           postal = pid.Value(11, r, 5), country = pid.Value(11, r, 6);
    if (line.empty() && city.empty() && postal.empty() && country.empty()) continue;
    if (!addresses) w.StartArray("address");
    addresses = true;
    w.StartObject();
    if (!line.empty()) {
      w.StartArray("line");
      w.String(line);
      w.EndArray();
    }
    if (!city.empty()) w.Field("city", city);
    if (!postal.empty()) w.Field("postalCode", postal);
    if (!country.empty()) w.Field("country", country);
    w.EndObject();
  }
  if (addresses) w.EndArray();
  if (auto phone = pid.Value(13); !phone.empty()) {
    w.StartArray("telecom");
    w.StartObject();
    w.Field("system", "phone");
    w.Field("value", phone);
    w.EndObject();
    w.EndArray();
  }
  if (auto death = V2TimestampToFhir(pid.Value(29), offset); !death.empty()) {
    w.Field("deceasedDateTime", death);
  } else if (pid.Value(30) == "Y") {
    w.Bool("deceasedBoolean", true);
  }
  return w.Finish();
}

MappedResource EncounterResource(const Hl7Message& m, const Segment& pv1,
                                 const std::string& patient_id, const std::string& offset) {
  const auto type = m.message_type();
  std::string visit = S(pv1.Value(19));
  if (visit.empty()) visit = S(m.control_id());
  std::string id = patient_id.substr(0, 16) + "-v" + ShortHash(visit);
  ResourceWriter w("Encounter", id);
  w.Field("status", EncounterStatus(type.trigger));
  WriteEncounterClass(w, pv1.Value(2));
  w.Reference("subject", "Patient/" + patient_id);
  std::string start = V2TimestampToFhir(pv1.Value(44), offset);
  const std::string end = V2TimestampToFhir(pv1.Value(45), offset);
  if (start.empty() && end.empty()) start = V2TimestampToFhir(m.Get("EVN-2"), offset);
  if (!start.empty() || !end.empty()) {
    w.Key("period");
    w.StartObject();
    if (!start.empty()) w.Field("start", start);
    if (!end.empty()) w.Field("end", end);
    w.EndObject();
  }
  std::string_view unit = pv1.Value(3, 1, 1);
  if (const Segment* zbe = m.FindSegment("ZBE"); zbe != nullptr && !zbe->Value(7, 1, 10).empty()) {
    unit = zbe->Value(7, 1, 10);  // PAM France: medical responsibility unit
  }
  if (!unit.empty()) {
    w.StartArray("location");
    w.StartObject();
    w.Key("location");
    w.StartObject();
    w.Field("display", unit);
    w.EndObject();
    w.EndObject();
    w.EndArray();
  }
  if (auto disp = pv1.Value(36); !disp.empty()) {
    w.Key("hospitalization");
    w.StartObject();
    WriteCoding(w, "dischargeDisposition", "", disp);
    w.EndObject();
  }
  return {"Encounter", id, w.Finish()};
}

// A Quantity of `number` (JSON number text) in the OBX-6 unit, under `key`.
void WriteQuantity(ResourceWriter& w, std::string_view key, std::string_view number,
                   std::string_view comparator, std::string_view unit) {
  w.Key(key);
  w.StartObject();
  w.Number("value", number);
  if (!comparator.empty()) w.Field("comparator", comparator);
  if (!unit.empty()) {
    w.Field("unit", unit);
    w.Field("system", "http://unitsofmeasure.org");
    w.Field("code", unit);
  }
  w.EndObject();
}

// OBX-5 by its OBX-2 value type: NM -> valueQuantity; SN -> valueQuantity with its comparator,
// valueRange ("1^-^10") or valueRatio ("1^:^128"); CE/CWE -> valueCodeableConcept; any other
// type -> valueString. False, with `error` set, for a number that is not one.
bool WriteObservationValue(ResourceWriter& w, const Segment& obx, Hl7Error* error) {
  auto not_a_number = [&] {
    *error = Hl7Error{
        "OBX", obx.sequence(), 5, 0, Hl7ErrorCode::kDataTypeError, "OBX-5 is not a number"};
    return false;
  };
  const std::string_view vt = obx.Value(2);
  const std::string_view unit = obx.Value(6, 1, 1);
  if (vt == "NM") {
    if (obx.Value(5).empty()) return true;
    const auto number = JsonDecimal(obx.Value(5));
    if (!number) return not_a_number();
    WriteQuantity(w, "valueQuantity", *number, "", unit);
    return true;
  }
  if (vt == "SN") {
    const std::string_view comparator = obx.Value(5, 1, 1), separator = obx.Value(5, 1, 3);
    const std::string_view num1 = obx.Value(5, 1, 2), num2 = obx.Value(5, 1, 4);
    if (num1.empty() && num2.empty()) return true;
    const auto first = JsonDecimal(num1);
    if (!first) return not_a_number();
    if (separator.empty() && num2.empty()) {
      const bool fhir_comparator =
          comparator == "<" || comparator == "<=" || comparator == ">=" || comparator == ">";
      if (!fhir_comparator && !comparator.empty() && comparator != "=") return not_a_number();
      WriteQuantity(w, "valueQuantity", *first, fhir_comparator ? comparator : "", unit);
      return true;
    }
    const auto second = JsonDecimal(num2);
    if (!second || !comparator.empty()) return not_a_number();
    const bool range = separator == "-";
    if (!range && separator != ":" && separator != "/") return not_a_number();
    w.Key(range ? "valueRange" : "valueRatio");
    w.StartObject();
    WriteQuantity(w, range ? "low" : "numerator", *first, "", range ? unit : "");
    WriteQuantity(w, range ? "high" : "denominator", *second, "", range ? unit : "");
    w.EndObject();
    return true;
  }
  if ((vt == "CE" || vt == "CWE") && HasCode(obx, 5)) {
    WriteCodeableConcept(w, "valueCodeableConcept", obx, 5);
  } else if (auto text = obx.Value(5, 1, 2); (vt == "CE" || vt == "CWE") && !text.empty()) {
    w.Key("valueCodeableConcept");
    w.StartObject();
    w.Field("text", text);
    w.EndObject();
  } else if (auto v = obx.Value(5); !v.empty()) {
    w.Field("valueString", v);
  }
  return true;
}

// OBX -> Observation; nullopt with `error` set when OBX-5 does not fit OBX-2.
std::optional<std::string> ObservationResource(const Segment& obx, const std::string& id,
                                               const std::string& patient_id,
                                               const std::string& report_time,
                                               const std::string& offset, Hl7Error* error) {
  ResourceWriter w("Observation", id);
  w.Field("status", ObservationStatus(obx.Value(11)));
  WriteCodeableConcept(w, "code", obx, 3);
  w.Reference("subject", "Patient/" + patient_id);
  std::string when = V2TimestampToFhir(obx.Value(14), offset);
  if (when.empty()) when = report_time;
  if (!when.empty()) w.Field("effectiveDateTime", when);
  if (!WriteObservationValue(w, obx, error)) return std::nullopt;
  if (auto interp = obx.Value(8); !interp.empty()) {
    w.StartArray("interpretation");
    WriteCoding(w, "", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                interp);
    w.EndArray();
  }
  if (auto range = obx.Value(7); !range.empty()) {
    w.StartArray("referenceRange");
    w.StartObject();
    w.Field("text", range);
    w.EndObject();
    w.EndArray();
  }
  return w.Finish();
}

}  // namespace

std::string V2TimestampToFhir(std::string_view ts, const std::string& local_offset) {
  std::string digits, offset;
  size_t i = 0;
  while (i < ts.size() && (std::isdigit(static_cast<unsigned char>(ts[i])) || ts[i] == '.')) {
    if (ts[i] != '.')
      digits.push_back(ts[i]);
    else
      break;
    ++i;
  }
  std::string fraction;
  if (i < ts.size() && ts[i] == '.') {
    for (++i; i < ts.size() && std::isdigit(static_cast<unsigned char>(ts[i])); ++i)
      fraction.push_back(ts[i]);
  }
  if (i < ts.size() && (ts[i] == '+' || ts[i] == '-') && ts.size() - i == 5) {
    offset = std::string(1, ts[i]) + std::string(ts.substr(i + 1, 2)) + ":" +
             std::string(ts.substr(i + 3, 2));
    i = ts.size();
  }
  if (i != ts.size() || digits.size() < 4 || digits.size() % 2 != 0 || digits.size() > 14)
    return "";
  std::string out = digits.substr(0, 4);
  if (digits.size() >= 6) out += "-" + digits.substr(4, 2);
  if (digits.size() >= 8) out += "-" + digits.substr(6, 2);
  if (digits.size() <= 8) return out;
  out += "T" + digits.substr(8, 2) + ":" + (digits.size() >= 12 ? digits.substr(10, 2) : "00") +
         ":" + (digits.size() >= 14 ? digits.substr(12, 2) : "00");
  if (!fraction.empty()) out += "." + fraction;
  return out + (offset.empty() ? local_offset : offset);
}

std::vector<Identifier> PatientIdentifiers(const Hl7Message& message) {
  std::vector<Identifier> ids;
  const Segment* pid = message.FindSegment("PID");
  if (pid == nullptr) return ids;
  for (int r = 1; r <= pid->RepetitionCount(3); ++r) {
    Identifier id;
    id.value = S(pid->Value(3, r, 1));
    // CX-4 assigning authority: namespace&universal id&type; the OID names it best.
    id.system = S(pid->Value(3, r, 4, 2));
    if (id.system.empty()) id.system = S(pid->Value(3, r, 4, 1));
    id.type = S(pid->Value(3, r, 5));
    // No assigning authority: the number is the sending facility's (MSH-4), as feeds that omit
    // CX-4 mean it.
    if (id.system.empty()) {
      std::string facility = S(message.Get("MSH-4.2"));
      if (facility.empty()) facility = S(message.Get("MSH-4"));
      if (facility.empty()) facility = S(message.Get("MSH-3"));
      if (!facility.empty()) id.system = "urn:eds:facility:" + facility;
    }
    if (!id.value.empty()) ids.push_back(std::move(id));
  }
  return ids;
}

Result<V2Mapping> MapV2ToFhir(const Hl7Message& m, const std::string& patient_id,
                              const std::string& offset, Hl7Error* error) {
  V2Mapping out;
  const Segment* pid = m.FindSegment("PID");
  auto fail = [&](std::string seg, int field, Hl7ErrorCode code, std::string msg) -> Status {
    *error = Hl7Error{std::move(seg), 1, field, 0, code, msg};
    return InvalidArgumentError(error->ToString());
  };
  if (pid == nullptr) return fail("PID", 0, Hl7ErrorCode::kSegmentSequenceError, "no PID segment");
  out.identifiers = PatientIdentifiers(m);
  if (out.identifiers.empty()) {
    return fail("PID", 3, Hl7ErrorCode::kRequiredFieldMissing, "no patient identifier in PID-3");
  }
  const std::string patient_ref = "Patient/" + patient_id;
  out.resources.push_back(
      {"Patient", patient_id, PatientResource(*pid, patient_id, offset, out.identifiers)});

  const auto type = m.message_type();
  if (const Segment* mrg = m.FindSegment("MRG"); mrg != nullptr && type.trigger == "A40") {
    for (int r = 1; r <= mrg->RepetitionCount(1); ++r) {
      Identifier id{S(mrg->Value(1, r, 4, 2)), S(mrg->Value(1, r, 1)), S(mrg->Value(1, r, 5))};
      if (id.system.empty()) id.system = S(mrg->Value(1, r, 4, 1));
      if (!id.value.empty()) out.merged_identifiers.push_back(std::move(id));
    }
    if (out.merged_identifiers.empty()) {
      return fail("MRG", 1, Hl7ErrorCode::kRequiredFieldMissing, "A40 without MRG-1");
    }
  }

  if (const Segment* pv1 = m.FindSegment("PV1"); pv1 != nullptr && type.code == "ADT") {
    out.resources.push_back(EncounterResource(m, *pv1, patient_id, offset));
  }

  if (type.code == "ORU") {
    const auto obrs = m.Segments("OBR");
    const auto obxs = m.Segments("OBX");
    const std::string base = patient_id.substr(0, 16) + "-" + IdPart(m.control_id());
    const std::string report_time =
        obrs.empty() ? std::string() : V2TimestampToFhir(obrs[0]->Value(7), offset);
    std::vector<std::string> result_ids;
    int n = 0;
    for (const Segment* obx : obxs) {
      ++n;
      // An attachment (ED) without an identifier is a document, not an observation: the
      // original message keeps it.
      const bool coded = HasCode(*obx, 3);
      if (!coded && obx->Value(2) == "ED") continue;
      if (!coded) {
        *error = Hl7Error{"OBX",
                          obx->sequence(),
                          3,
                          0,
                          Hl7ErrorCode::kRequiredFieldMissing,
                          "OBX-3 observation identifier missing"};
        return InvalidArgumentError(error->ToString());
      }
      std::string id = base + "-obx" + std::to_string(n);
      auto json = ObservationResource(*obx, id, patient_id, report_time, offset, error);
      if (!json) return InvalidArgumentError(error->ToString());
      out.resources.push_back({"Observation", id, std::move(*json)});
      result_ids.push_back(std::move(id));
    }
    int r = 0;
    for (const Segment* obr : obrs) {
      ++r;
      const std::string id = base + "-obr" + std::to_string(r);
      ResourceWriter d("DiagnosticReport", id);
      d.Field("status", ObservationStatus(obr->Value(25)));
      d.Reference("subject", "Patient/" + patient_id);
      if (HasCode(*obr, 4)) {
        WriteCodeableConcept(d, "code", *obr, 4);
      } else {
        d.Key("code");
        d.StartObject();
        d.Field("text", "laboratory report");
        d.EndObject();
      }
      if (auto when = V2TimestampToFhir(obr->Value(7), offset); !when.empty()) {
        d.Field("effectiveDateTime", when);
      }
      if (r == 1 && !result_ids.empty()) {
        d.StartArray("result");
        for (const auto& result : result_ids) d.Reference("Observation/" + result);
        d.EndArray();
      }
      out.resources.push_back({"DiagnosticReport", id, d.Finish()});
    }
  }
  return out;
}

}  // namespace eds::ingest
