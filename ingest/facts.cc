#include "ingest/facts.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace eds::ingest {
namespace {

struct SystemName {
  std::string_view name;
  CodeSystem system;
};

// FHIR canonical URIs, OIDs and the HL7 v2 table 0396 names of the same systems.
constexpr SystemName kSystems[] = {
    {"http://hl7.org/fhir/sid/icd-10", CodeSystem::kIcd10},
    {"http://hl7.org/fhir/sid/icd-10-cm", CodeSystem::kIcd10},
    {"http://hl7.org/fhir/sid/icd-10-fr", CodeSystem::kIcd10},
    {"https://mos.esante.gouv.fr/NOS/TRE_R213-CIM10", CodeSystem::kIcd10},
    {"urn:oid:2.16.840.1.113883.6.3", CodeSystem::kIcd10},
    {"urn:oid:2.16.840.1.113883.6.90", CodeSystem::kIcd10},
    {"urn:oid:1.2.250.1.213.2.14", CodeSystem::kIcd10},  // CIM-10 (ATIH)
    {"I10", CodeSystem::kIcd10},
    {"ICD10", CodeSystem::kIcd10},
    {"CIM10", CodeSystem::kIcd10},
    {"http://loinc.org", CodeSystem::kLoinc},
    {"urn:oid:2.16.840.1.113883.6.1", CodeSystem::kLoinc},
    {"LN", CodeSystem::kLoinc},
    {"http://snomed.info/sct", CodeSystem::kSnomed},
    {"urn:oid:2.16.840.1.113883.6.96", CodeSystem::kSnomed},
    {"SCT", CodeSystem::kSnomed},
    {"SNM", CodeSystem::kSnomed},
    {"http://www.whocc.no/atc", CodeSystem::kAtc},
    {"urn:oid:2.16.840.1.113883.6.73", CodeSystem::kAtc},
    {"ATC", CodeSystem::kAtc},
    {"http://www.nlm.nih.gov/research/umls/rxnorm", CodeSystem::kRxNorm},
    {"RXNORM", CodeSystem::kRxNorm},
    {"http://hl7.org/fhir/sid/cvx", CodeSystem::kCvx},
    {"CVX", CodeSystem::kCvx},
    {"http://terminology.hl7.org/CodeSystem/v3-ActCode", CodeSystem::kActCode},
    {"urn:oid:2.16.840.1.113883.5.4", CodeSystem::kActCode},
};

FactCode ToFactCode(const fhir::Coding& c) {
  FactCode f;
  f.system = CodeSystemOf(c.system);
  if (f.system == CodeSystem::kOther) f.system_uri = c.system;
  f.code = c.code;
  // ICD-10 codes are written with and without the dot ("E11.9", "E119"): keep one form.
  if (f.system == CodeSystem::kIcd10) {
    std::string code;
    for (char ch : c.code) {
      if (ch != '.')
        code.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    }
    f.code = std::move(code);
  }
  return f;
}

std::vector<FactCode> ToFactCodes(const std::vector<fhir::Coding>& codings) {
  std::vector<FactCode> out;
  out.reserve(codings.size());
  for (const auto& c : codings) out.push_back(ToFactCode(c));
  return out;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (s.size() < pos + n) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days from civil (proleptic Gregorian), after H. Hinnant's published algorithm.
int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

FactType TypeOf(fhir::ResourceKind kind) {
  switch (kind) {
    case fhir::ResourceKind::kPatient:
      return FactType::kPatient;
    case fhir::ResourceKind::kEncounter:
      return FactType::kEncounter;
    case fhir::ResourceKind::kCondition:
      return FactType::kCondition;
    case fhir::ResourceKind::kObservation:
      return FactType::kObservation;
    case fhir::ResourceKind::kProcedure:
      return FactType::kProcedure;
    case fhir::ResourceKind::kMedicationRequest:
      return FactType::kMedicationRequest;
    case fhir::ResourceKind::kMedicationAdministration:
      return FactType::kMedicationAdministration;
    case fhir::ResourceKind::kDiagnosticReport:
      return FactType::kDiagnosticReport;
    case fhir::ResourceKind::kImmunization:
      return FactType::kImmunization;
    case fhir::ResourceKind::kAllergyIntolerance:
      return FactType::kAllergyIntolerance;
    case fhir::ResourceKind::kOther:
      break;
  }
  return FactType::kObservation;
}

// --- binary form ---------------------------------------------------------------------------

constexpr uint8_t kFormatVersion = 1;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void PutSigned(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}
void PutCodes(std::string& out, const std::vector<FactCode>& codes) {
  PutVarint(out, codes.size());
  for (const auto& c : codes) {
    out.push_back(static_cast<char>(c.system));
    if (c.system == CodeSystem::kOther) PutString(out, c.system_uri);
    PutString(out, c.code);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Signed32(int32_t* v) {
    uint64_t u = 0;
    if (!Varint(&u)) return false;
    const int64_t s = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
    if (s < INT32_MIN || s > INT32_MAX) return false;
    *v = static_cast<int32_t>(s);
    return true;
  }
  bool Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool String(std::string* s) {
    uint64_t n = 0;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Double(double* d) {
    if (in_.size() - pos_ < sizeof(double)) return false;
    std::memcpy(d, in_.data() + pos_, sizeof(double));
    pos_ += sizeof(double);
    return true;
  }
  bool Codes(std::vector<FactCode>* codes) {
    uint64_t n = 0;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    codes->resize(n);
    for (auto& c : *codes) {
      uint8_t sys = 0;
      if (!Byte(&sys) || sys > static_cast<uint8_t>(CodeSystem::kActCode)) return false;
      c.system = static_cast<CodeSystem>(sys);
      if (c.system == CodeSystem::kOther && !String(&c.system_uri)) return false;
      if (!String(&c.code)) return false;
    }
    return true;
  }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

CodeSystem CodeSystemOf(std::string_view uri) {
  for (const auto& s : kSystems) {
    if (s.name == uri) return s.system;
  }
  return CodeSystem::kOther;
}

int32_t DayOf(std::string_view date) {
  int y = 0, m = 1, d = 1;
  if (!Digits(date, 0, 4, &y)) return kUnknownDay;
  if (date.size() > 4) {
    if (date[4] != '-' || !Digits(date, 5, 2, &m) || m < 1 || m > 12) return kUnknownDay;
    if (date.size() > 7) {
      if (date[7] != '-' || !Digits(date, 8, 2, &d) || d < 1 || d > 31) return kUnknownDay;
    }
  }
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

CivilDate CivilOf(int32_t z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

int32_t AgeMonths(int32_t birth_day, int32_t event_day) {
  if (birth_day == kUnknownDay || event_day == kUnknownDay || event_day < birth_day) {
    return kUnknownAge;
  }
  const CivilDate b = CivilOf(birth_day);
  const CivilDate e = CivilOf(event_day);
  int months = (e.year - b.year) * 12 + static_cast<int>(e.month) - static_cast<int>(b.month);
  if (e.day < b.day) --months;
  return months < 0 ? 0 : months;
}

Demographics DemographicsOf(const fhir::ParsedResource& p) {
  Demographics d;
  if (p.gender == "male") d.sex = Sex::kMale;
  if (p.gender == "female") d.sex = Sex::kFemale;
  if (p.gender == "other") d.sex = Sex::kOther;
  // Only the birth month is kept: the middle of it is within two weeks of the truth.
  if (p.birth_date.size() >= 7) {
    const int32_t first = DayOf(p.birth_date.substr(0, 7));
    if (first != kUnknownDay) d.birth_day = first + 14;
  } else if (p.birth_date.size() == 4) {
    const int32_t first = DayOf(p.birth_date);
    if (first != kUnknownDay) d.birth_day = first + 182;
  }
  d.deceased = p.deceased.value_or(false);
  if (!p.deceased_date_time.empty()) d.death_day = DayOf(p.deceased_date_time);
  return d;
}

std::vector<Fact> ExtractFacts(const fhir::ParsedResource& r, const Demographics* known) {
  std::vector<Fact> out;
  if (r.kind == fhir::ResourceKind::kOther || r.status == "entered-in-error") return out;
  if (r.kind == fhir::ResourceKind::kPatient) {
    const Demographics d = DemographicsOf(r);
    Fact f;
    f.type = FactType::kPatient;
    f.day = d.birth_day;
    f.end_day = d.death_day;
    f.sex = d.sex;
    f.deceased = d.deceased;
    out.push_back(std::move(f));
    return out;
  }
  Fact f;
  f.type = TypeOf(r.kind);
  f.codes = ToFactCodes(r.codes);
  f.day = DayOf(r.date);
  if (r.kind == fhir::ResourceKind::kEncounter) {
    if (r.encounter_class) f.encounter_class = r.encounter_class->code;
    f.care_unit = r.care_unit_reference;
    f.end_day = r.end_date.empty() ? kUnknownDay : DayOf(r.end_date);
    f.discharge = ToFactCodes(r.discharge_disposition);
  }
  if (r.kind == fhir::ResourceKind::kObservation) {
    f.value = r.value;
    f.unit = r.unit;
    f.value_codes = ToFactCodes(r.value_codes);
  }
  out.push_back(std::move(f));
  // Components (blood pressure, panels) are events of their own, at the same date.
  for (const auto& c : r.components) {
    Fact cf;
    cf.type = FactType::kObservation;
    cf.codes = ToFactCodes(c.codes);
    cf.day = out.front().day;
    cf.value = c.value;
    cf.unit = c.unit;
    cf.value_codes = ToFactCodes(c.value_codes);
    out.push_back(std::move(cf));
  }
  if (known != nullptr) CompleteFromDemographics(*known, &out);
  return out;
}

void CompleteFromDemographics(const Demographics& d, std::vector<Fact>* facts) {
  for (auto& f : *facts) {
    if (f.type == FactType::kPatient) continue;
    if (f.sex == Sex::kUnknown) f.sex = d.sex;
    if (f.age_months == kUnknownAge) f.age_months = AgeMonths(d.birth_day, f.day);
  }
}

std::string EncodeFacts(const std::vector<Fact>& facts) {
  std::string out;
  out.push_back(static_cast<char>(kFormatVersion));
  PutVarint(out, facts.size());
  for (const auto& f : facts) {
    out.push_back(static_cast<char>(f.type));
    const uint8_t flags = static_cast<uint8_t>((f.value ? 1 : 0) | (f.deceased ? 2 : 0));
    out.push_back(static_cast<char>(flags));
    PutCodes(out, f.codes);
    PutSigned(out, f.day);
    PutSigned(out, f.end_day);
    PutSigned(out, f.age_months);
    out.push_back(static_cast<char>(f.sex));
    PutString(out, f.encounter_class);
    PutString(out, f.care_unit);
    if (f.value) {
      char bytes[sizeof(double)];
      std::memcpy(bytes, &*f.value, sizeof(double));
      out.append(bytes, sizeof bytes);
    }
    PutString(out, f.unit);
    PutCodes(out, f.value_codes);
    PutCodes(out, f.discharge);
  }
  return out;
}

Result<std::vector<Fact>> DecodeFacts(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version = 0;
  uint64_t n = 0;
  if (!r.Byte(&version) || version != kFormatVersion) {
    return DataLossError("facts: unknown format version");
  }
  if (!r.Varint(&n) || n > r.remaining()) return DataLossError("facts: bad count");
  std::vector<Fact> facts(n);
  for (auto& f : facts) {
    uint8_t type = 0, flags = 0, sex = 0;
    bool ok = r.Byte(&type) && type >= 1 && type <= 10 && r.Byte(&flags) && r.Codes(&f.codes) &&
              r.Signed32(&f.day) && r.Signed32(&f.end_day) && r.Signed32(&f.age_months) &&
              r.Byte(&sex) && sex <= 3 && r.String(&f.encounter_class) && r.String(&f.care_unit);
    if (ok && (flags & 1) != 0) {
      double v = 0;
      ok = r.Double(&v);
      f.value = v;
    }
    ok = ok && r.String(&f.unit) && r.Codes(&f.value_codes) && r.Codes(&f.discharge);
    if (!ok) return DataLossError("facts: truncated or malformed");
    f.type = static_cast<FactType>(type);
    f.sex = static_cast<Sex>(sex);
    f.deceased = (flags & 2) != 0;
  }
  if (!r.done()) return DataLossError("facts: trailing bytes");
  return facts;
}

}  // namespace eds::ingest
