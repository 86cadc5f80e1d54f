#include "ingest/v2_to_fhir.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace eds::ingest {
namespace {

using hl7::Hl7Error;
using hl7::Hl7ErrorCode;
using hl7::Hl7Message;
using hl7::Segment;
using nlohmann::json;

std::string S(std::string_view v) { return std::string(v); }

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

// CE/CWE at (field, repetition) -> CodeableConcept; null when empty.
json CodeableConcept(const Segment& s, int field, int rep = 1) {
  json codings = json::array();
  for (int base : {1, 4}) {  // identifier^text^system and the alternate triplet
    const std::string_view code = s.Value(field, rep, base);
    if (code.empty()) continue;
    json c = {{"code", S(code)}};
    if (auto sys = CodeSystemUri(s.Value(field, rep, base + 2)); !sys.empty()) c["system"] = sys;
    if (auto text = s.Value(field, rep, base + 1); !text.empty()) c["display"] = S(text);
    codings.push_back(std::move(c));
  }
  if (codings.empty()) return nullptr;
  json cc = {{"coding", codings}};
  if (auto text = s.Value(field, rep, 2); !text.empty()) cc["text"] = S(text);
  return cc;
}

std::string Gender(std::string_view v2) {
  if (v2 == "M") return "male";
  if (v2 == "F") return "female";
  if (v2 == "O" || v2 == "A") return "other";
  return "unknown";
}

// PV1-2 patient class to the v3 ActCode the FHIR Encounter.class uses.
json EncounterClass(std::string_view v2) {
  std::string code = "AMB", display = "ambulatory";
  if (v2 == "I") code = "IMP", display = "inpatient encounter";
  if (v2 == "E") code = "EMER", display = "emergency";
  if (v2 == "P") code = "PRENC", display = "pre-admission";
  if (v2 == "R") code = "IMP", display = "inpatient encounter";  // recurring stays
  if (v2 == "B" || v2 == "C" || v2 == "N" || v2 == "U") code = "AMB";
  return {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
          {"code", code},
          {"display", display}};
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

json PatientResource(const Hl7Message& m, const Segment& pid, const std::string& patient_id,
                     const std::string& offset, const std::vector<Identifier>& ids) {
  json p = {{"resourceType", "Patient"}, {"id", patient_id}};
  json identifiers = json::array();
  for (const auto& id : ids) {
    json j = {{"value", id.value}};
    if (!id.system.empty()) {
      j["system"] =
          AllDigits(std::string_view(id.system).substr(0, 1)) ? "urn:oid:" + id.system : id.system;
    }
    if (!id.type.empty()) j["type"] = {{"coding", {{{"code", id.type}}}}};
    identifiers.push_back(std::move(j));
  }
  p["identifier"] = identifiers;
  json names = json::array();
  for (int r = 1; r <= pid.RepetitionCount(5); ++r) {
    json n;
    if (auto family = pid.Value(5, r, 1); !family.empty()) n["family"] = S(family);
    json given = json::array();
    for (int c : {2, 3}) {
      if (auto g = pid.Value(5, r, c); !g.empty()) given.push_back(S(g));
    }
    if (!given.empty()) n["given"] = given;
    if (auto use = pid.Value(5, r, 7); use == "L") n["use"] = "official";
    if (auto use = pid.Value(5, r, 7); use == "D" || use == "M")
      n["use"] = use == "M" ? "maiden" : "usual";
    if (!n.empty()) names.push_back(std::move(n));
  }
  if (!names.empty()) p["name"] = names;
  if (auto sex = pid.Value(8); !sex.empty()) p["gender"] = Gender(sex);
  if (auto birth = V2TimestampToFhir(pid.Value(7).substr(0, 8), offset); !birth.empty()) {
    p["birthDate"] = birth;
  }
  json addresses = json::array();
  for (int r = 1; r <= pid.RepetitionCount(11); ++r) {
    json a;
    if (auto line = pid.Value(11, r, 1); !line.empty()) a["line"] = {S(line)};
    if (auto city = pid.Value(11, r, 3); !city.empty()) a["city"] = S(city);
    if (auto postal = pid.Value(11, r, 5); !postal.empty()) a["postalCode"] = S(postal);
    if (auto country = pid.Value(11, r, 6); !country.empty()) a["country"] = S(country);
    if (!a.empty()) addresses.push_back(std::move(a));
  }
  if (!addresses.empty()) p["address"] = addresses;
  if (auto phone = pid.Value(13); !phone.empty()) {
    p["telecom"] = {{{"system", "phone"}, {"value", S(phone)}}};
  }
  if (auto death = V2TimestampToFhir(pid.Value(29), offset); !death.empty()) {
    p["deceasedDateTime"] = death;
  } else if (pid.Value(30) == "Y") {
    p["deceasedBoolean"] = true;
  }
  (void)m;
  return p;
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
  out.resources.push_back({"Patient", patient_id,
                           PatientResource(m, *pid, patient_id, offset, out.identifiers).dump()});

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

  std::string encounter_ref;
  if (const Segment* pv1 = m.FindSegment("PV1"); pv1 != nullptr && type.code == "ADT") {
    std::string visit = S(pv1->Value(19));
    if (visit.empty()) visit = S(m.control_id());
    const std::string id = patient_id.substr(0, 16) + "-v" + ShortHash(visit);
    json e = {{"resourceType", "Encounter"},
              {"id", id},
              {"status", EncounterStatus(type.trigger)},
              {"class", EncounterClass(pv1->Value(2))},
              {"subject", {{"reference", patient_ref}}}};
    json period;
    if (auto start = V2TimestampToFhir(pv1->Value(44), offset); !start.empty())
      period["start"] = start;
    if (auto end = V2TimestampToFhir(pv1->Value(45), offset); !end.empty()) period["end"] = end;
    if (period.empty()) {
      if (auto when = V2TimestampToFhir(m.Get("EVN-2"), offset); !when.empty())
        period["start"] = when;
    }
    if (!period.empty()) e["period"] = period;
    std::string unit = S(pv1->Value(3, 1, 1));
    if (const Segment* zbe = m.FindSegment("ZBE");
        zbe != nullptr && !zbe->Value(7, 1, 10).empty()) {
      unit = S(zbe->Value(7, 1, 10));  // PAM France: medical responsibility unit
    }
    if (!unit.empty()) e["location"] = {{{"location", {{"display", unit}}}}};
    if (auto disp = pv1->Value(36); !disp.empty()) {
      e["hospitalization"] = {{"dischargeDisposition", {{"coding", {{{"code", S(disp)}}}}}}};
    }
    encounter_ref = "Encounter/" + id;
    out.resources.push_back({"Encounter", id, e.dump()});
  }

  if (type.code == "ORU") {
    const auto obrs = m.Segments("OBR");
    const auto obxs = m.Segments("OBX");
    const std::string base = patient_id.substr(0, 16) + "-" + S(m.control_id());
    std::vector<std::string> result_refs;
    int n = 0;
    for (const Segment* obx : obxs) {
      ++n;
      const std::string id = base + "-obx" + std::to_string(n);
      json o = {{"resourceType", "Observation"},
                {"id", id},
                {"status", ObservationStatus(obx->Value(11))},
                {"subject", {{"reference", patient_ref}}}};
      json code = CodeableConcept(*obx, 3);
      // An attachment (ED) without an identifier is a document, not an observation: the
      // original message keeps it.
      if (code.is_null() && obx->Value(2) == "ED") continue;
      if (code.is_null()) {
        *error = Hl7Error{"OBX",
                          obx->sequence(),
                          3,
                          0,
                          Hl7ErrorCode::kRequiredFieldMissing,
                          "OBX-3 observation identifier missing"};
        return InvalidArgumentError(error->ToString());
      }
      o["code"] = code;
      const std::string_view vt = obx->Value(2);
      const std::string_view v = obx->Value(5);
      if ((vt == "NM" || vt == "SN") && !v.empty()) {
        char* end = nullptr;
        const std::string vs(vt == "SN" ? obx->Value(5, 1, 2) : v);
        const double d = std::strtod(vs.c_str(), &end);
        if (end == vs.c_str() || *end != '\0') {
          *error = Hl7Error{
              "OBX", obx->sequence(), 5, 0, Hl7ErrorCode::kDataTypeError, "OBX-5 is not a number"};
          return InvalidArgumentError(error->ToString());
        }
        json q = {{"value", d}};
        if (auto unit = obx->Value(6, 1, 1); !unit.empty()) {
          q["unit"] = S(unit);
          q["code"] = S(unit);
          q["system"] = "http://unitsofmeasure.org";
        }
        o["valueQuantity"] = q;
      } else if ((vt == "CE" || vt == "CWE") && !v.empty()) {
        o["valueCodeableConcept"] = CodeableConcept(*obx, 5);
      } else if (!v.empty()) {
        o["valueString"] = S(v);
      }
      std::string when = V2TimestampToFhir(obx->Value(14), offset);
      if (when.empty() && !obrs.empty()) when = V2TimestampToFhir(obrs[0]->Value(7), offset);
      if (!when.empty()) o["effectiveDateTime"] = when;
      if (auto interp = obx->Value(8); !interp.empty()) {
        json coding = {
            {"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"},
            {"code", S(interp)}};
        o["interpretation"] = json::array({json{{"coding", json::array({coding})}}});
      }
      if (auto range = obx->Value(7); !range.empty()) o["referenceRange"] = {{{"text", S(range)}}};
      result_refs.push_back("Observation/" + id);
      out.resources.push_back({"Observation", id, o.dump()});
    }
    int r = 0;
    for (const Segment* obr : obrs) {
      ++r;
      const std::string id = base + "-obr" + std::to_string(r);
      json d = {{"resourceType", "DiagnosticReport"},
                {"id", id},
                {"status", ObservationStatus(obr->Value(25))},
                {"subject", {{"reference", patient_ref}}}};
      json code = CodeableConcept(*obr, 4);
      d["code"] = code.is_null() ? json{{"text", "laboratory report"}} : code;
      if (auto when = V2TimestampToFhir(obr->Value(7), offset); !when.empty())
        d["effectiveDateTime"] = when;
      json results = json::array();
      for (const auto& ref : result_refs) results.push_back({{"reference", ref}});
      if (r == 1 && !results.empty()) d["result"] = results;
      out.resources.push_back({"DiagnosticReport", id, d.dump()});
    }
  }
  return out;
}

}  // namespace eds::ingest
