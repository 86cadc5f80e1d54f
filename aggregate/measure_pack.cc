#include "aggregate/measure_pack.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace eds::aggregate {
namespace {

using ingest::CodeSystem;
using ingest::FactType;
using nlohmann::json;

struct Named {
  std::string_view name;
  CodeSystem system;
};
// Short names a pack may use besides the canonical URIs.
constexpr Named kShortSystems[] = {
    {"icd-10", CodeSystem::kIcd10}, {"cim-10", CodeSystem::kIcd10},
    {"loinc", CodeSystem::kLoinc},  {"snomed-ct", CodeSystem::kSnomed},
    {"atc", CodeSystem::kAtc},      {"rxnorm", CodeSystem::kRxNorm},
    {"cvx", CodeSystem::kCvx},      {"v3-actcode", CodeSystem::kActCode},
};

struct TypeName {
  std::string_view name;
  FactType type;
};
constexpr TypeName kTypes[] = {
    {"Patient", FactType::kPatient},
    {"Encounter", FactType::kEncounter},
    {"Condition", FactType::kCondition},
    {"Observation", FactType::kObservation},
    {"Procedure", FactType::kProcedure},
    {"MedicationRequest", FactType::kMedicationRequest},
    {"MedicationAdministration", FactType::kMedicationAdministration},
    {"DiagnosticReport", FactType::kDiagnosticReport},
    {"Immunization", FactType::kImmunization},
    {"AllergyIntolerance", FactType::kAllergyIntolerance},
};

struct ComponentNameEntry {
  std::string_view name;
  Component component;
};
constexpr ComponentNameEntry kComponents[] = {
    {"age-band", Component::kAgeBand},
    {"sex", Component::kSex},
    {"month", Component::kMonth},
    {"iso-week", Component::kIsoWeek},
    {"encounter-class", Component::kEncounterClass},
    {"care-unit", Component::kCareUnit},
    {"icd10-chapter", Component::kIcd10Chapter},
};

// Reading one measure: every error names the measure and the field.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  Status Error(const std::string& field, const std::string& what) const {
    return InvalidArgumentError(where_ + ": " + field + ": " + what);
  }

  Result<std::string> String(const json& obj, const std::string& key, const std::string& field,
                             bool required) const {
    if (!obj.contains(key)) {
      if (required) return Error(field, "is required");
      return std::string();
    }
    if (!obj[key].is_string()) return Error(field, "must be a string");
    std::string s = obj[key].get<std::string>();
    if (required && s.empty()) return Error(field, "must not be empty");
    return s;
  }

  Result<std::vector<std::string>> Strings(const json& obj, const std::string& key,
                                           const std::string& field) const {
    std::vector<std::string> out;
    if (!obj.contains(key)) return out;
    if (!obj[key].is_array()) return Error(field, "must be an array of strings");
    for (size_t i = 0; i < obj[key].size(); ++i) {
      const json& v = obj[key][i];
      if (!v.is_string() || v.get<std::string>().empty()) {
        return Error(field + "[" + std::to_string(i) + "]", "must be a non-empty string");
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  Result<int32_t> Int(const json& obj, const std::string& key, const std::string& field,
                      int32_t min, int32_t max) const {
    if (!obj.contains(key)) return int32_t{0};
    if (!obj[key].is_number_integer()) return Error(field, "must be an integer");
    const int64_t v = obj[key].get<int64_t>();
    if (v < min || v > max) {
      return Error(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return static_cast<int32_t>(v);
  }

  Result<std::vector<CodeFilter>> Codes(const json& obj, const std::string& key,
                                        const std::string& field) const {
    std::vector<CodeFilter> out;
    if (!obj.contains(key)) return out;
    if (!obj[key].is_array()) return Error(field, "must be an array");
    for (size_t i = 0; i < obj[key].size(); ++i) {
      const std::string f = field + "[" + std::to_string(i) + "]";
      const json& c = obj[key][i];
      if (!c.is_object()) return Error(f, "must be an object");
      for (const auto& [k, v] : c.items()) {
        if (k != "system" && k != "codes" && k != "prefixes") return Error(f + "." + k, "unknown");
      }
      auto system = String(c, "system", f + ".system", true);
      if (!system.ok()) return system.status();
      CodeFilter filter;
      filter.system = ingest::CodeSystemOf(*system);
      for (const auto& n : kShortSystems) {
        if (n.name == *system) filter.system = n.system;
      }
      if (filter.system == CodeSystem::kOther) filter.system_uri = *system;
      auto codes = Strings(c, "codes", f + ".codes");
      if (!codes.ok()) return codes.status();
      auto prefixes = Strings(c, "prefixes", f + ".prefixes");
      if (!prefixes.ok()) return prefixes.status();
      filter.codes = std::move(*codes);
      filter.prefixes = std::move(*prefixes);
      // ICD-10 is compared without its dot, upper case, as facts keep it.
      if (filter.system == CodeSystem::kIcd10) {
        for (auto* list : {&filter.codes, &filter.prefixes}) {
          for (auto& code : *list) {
            std::string clean;
            for (char ch : code) {
              if (ch != '.')
                clean.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
            }
            code = std::move(clean);
          }
        }
      }
      out.push_back(std::move(filter));
    }
    return out;
  }

 private:
  std::string where_;
};

Result<Measure> ParseMeasure(const json& m, size_t index) {
  std::string where = "measure[" + std::to_string(index) + "]";
  if (m.is_object() && m.contains("url") && m["url"].is_string()) {
    where = "measure " + m["url"].get<std::string>();
  }
  Reader r(where);
  if (!m.is_object()) return r.Error("measure", "must be an object");
  static const std::set<std::string> kKeys = {"url",        "version", "title",     "description",
                                              "population", "count",   "age_bands", "stratifiers"};
  for (const auto& [k, v] : m.items()) {
    if (kKeys.count(k) == 0) return r.Error(k, "unknown field");
  }
  Measure out;
  auto url = r.String(m, "url", "url", true);
  if (!url.ok()) return url.status();
  if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0 &&
      url->rfind("urn:", 0) != 0) {
    return r.Error("url", "must be a canonical URL (http, https or urn)");
  }
  out.url = *url;
  for (auto [key, field] : {std::pair{"version", &out.version}, {"title", &out.title}}) {
    auto v = r.String(m, key, key, true);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  auto description = r.String(m, "description", "description", false);
  if (!description.ok()) return description.status();
  out.description = *description;

  auto count = r.String(m, "count", "count", true);
  if (!count.ok()) return count.status();
  if (*count == "patients") {
    out.counting = Counting::kPatients;
  } else if (*count == "events") {
    out.counting = Counting::kEvents;
  } else {
    return r.Error("count", "must be \"patients\" or \"events\"");
  }

  if (!m.contains("population") || !m["population"].is_object()) {
    return r.Error("population", "is required (an object)");
  }
  const json& p = m["population"];
  static const std::set<std::string> kPopKeys = {
      "resource", "codes",          "value_codes",       "encounter_class", "care_unit",
      "deaths",   "death_in_class", "start_offset_days", "end_offset_days"};
  for (const auto& [k, v] : p.items()) {
    if (kPopKeys.count(k) == 0) return r.Error("population." + k, "unknown field");
  }
  auto resource = r.String(p, "resource", "population.resource", true);
  if (!resource.ok()) return resource.status();
  bool known = false;
  for (const auto& t : kTypes) {
    if (t.name == *resource) {
      out.population.resource = t.type;
      known = true;
    }
  }
  if (!known) return r.Error("population.resource", "unknown resource type " + *resource);
  auto codes = r.Codes(p, "codes", "population.codes");
  if (!codes.ok()) return codes.status();
  out.population.codes = std::move(*codes);
  auto value_codes = r.Codes(p, "value_codes", "population.value_codes");
  if (!value_codes.ok()) return value_codes.status();
  out.population.value_codes = std::move(*value_codes);
  for (auto [key, list] : {std::pair{"encounter_class", &out.population.encounter_class},
                           {"care_unit", &out.population.care_unit},
                           {"death_in_class", &out.population.death_in_class}}) {
    auto v = r.Strings(p, key, std::string("population.") + key);
    if (!v.ok()) return v.status();
    *list = std::move(*v);
  }
  if (p.contains("deaths")) {
    if (!p["deaths"].is_boolean()) return r.Error("population.deaths", "must be a boolean");
    out.population.deaths = p["deaths"].get<bool>();
  }
  if (out.population.deaths && out.population.resource != FactType::kPatient) {
    return r.Error("population.deaths", "counts Patient deaths: resource must be Patient");
  }
  constexpr int32_t kMaxOffset = 3660;
  auto start =
      r.Int(p, "start_offset_days", "population.start_offset_days", -kMaxOffset, kMaxOffset);
  if (!start.ok()) return start.status();
  auto end = r.Int(p, "end_offset_days", "population.end_offset_days", -kMaxOffset, kMaxOffset);
  if (!end.ok()) return end.status();
  out.population.start_offset_days = *start;
  out.population.end_offset_days = *end;

  if (m.contains("age_bands")) {
    const json& b = m["age_bands"];
    if (!b.is_array() || b.empty()) return r.Error("age_bands", "must be a non-empty array");
    for (size_t i = 0; i < b.size(); ++i) {
      if (!b[i].is_number_integer() || b[i].get<int>() < 0 || b[i].get<int>() > 130 ||
          (i == 0 && b[i].get<int>() != 0) || (i > 0 && b[i].get<int>() <= out.age_bands.back())) {
        return r.Error("age_bands[" + std::to_string(i) + "]",
                       "lower bounds in years, ascending from 0");
      }
      out.age_bands.push_back(b[i].get<int>());
    }
  }
  if (!m.contains("stratifiers")) return out;
  if (!m["stratifiers"].is_array()) return r.Error("stratifiers", "must be an array");
  std::set<std::string> ids;
  for (size_t i = 0; i < m["stratifiers"].size(); ++i) {
    const std::string f = "stratifiers[" + std::to_string(i) + "]";
    const json& s = m["stratifiers"][i];
    if (!s.is_object()) return r.Error(f, "must be an object");
    Stratifier st;
    auto id = r.String(s, "id", f + ".id", true);
    if (!id.ok()) return id.status();
    if (!ids.insert(*id).second) return r.Error(f + ".id", "duplicate id " + *id);
    st.id = *id;
    auto components = r.Strings(s, "components", f + ".components");
    if (!components.ok()) return components.status();
    if (components->empty() || components->size() > 3) {
      return r.Error(f + ".components", "one to three components");
    }
    for (size_t j = 0; j < components->size(); ++j) {
      bool found = false;
      for (const auto& c : kComponents) {
        if (c.name == (*components)[j]) {
          st.components.push_back(c.component);
          found = true;
        }
      }
      if (!found) {
        return r.Error(f + ".components[" + std::to_string(j) + "]",
                       "unknown component " + (*components)[j]);
      }
      if (st.components.back() == Component::kAgeBand && out.age_bands.empty()) {
        return r.Error(f + ".components[" + std::to_string(j) + "]",
                       "age-band needs the measure's age_bands");
      }
    }
    out.stratifiers.push_back(std::move(st));
  }
  return out;
}

}  // namespace

Result<MeasurePack> ParseMeasurePack(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("measure pack: not a JSON object");
  }
  Reader r("measure pack");
  for (const auto& [k, v] : j.items()) {
    if (k != "pack" && k != "version" && k != "title" && k != "measures") {
      return r.Error(k, "unknown field");
    }
  }
  MeasurePack pack;
  for (auto [key, field] :
       {std::pair{"pack", &pack.id}, {"version", &pack.version}, {"title", &pack.title}}) {
    auto v = r.String(j, key, key, true);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  if (!j.contains("measures") || !j["measures"].is_array() || j["measures"].empty()) {
    return r.Error("measures", "must be a non-empty array");
  }
  std::set<std::string> urls;
  for (size_t i = 0; i < j["measures"].size(); ++i) {
    auto m = ParseMeasure(j["measures"][i], i);
    if (!m.ok()) return m.status();
    if (!urls.insert(m->url).second) {
      return InvalidArgumentError("measure " + m->url + ": url: appears twice in the pack");
    }
    pack.measures.push_back(std::move(*m));
  }
  return pack;
}

Result<MeasurePack> LoadMeasurePack(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read measure pack " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto pack = ParseMeasurePack(text.str());
  if (!pack.ok()) return InvalidArgumentError(path + ": " + pack.status().message());
  return pack;
}

std::string AgeBandLabel(const std::vector<int>& bands, int32_t age_months) {
  if (age_months < 0 || bands.empty()) return "unknown";
  const int years = age_months / 12;
  for (size_t i = bands.size(); i-- > 0;) {
    if (years >= bands[i]) {
      if (i + 1 == bands.size()) return std::to_string(bands[i]) + "+";
      return std::to_string(bands[i]) + "-" + std::to_string(bands[i + 1] - 1);
    }
  }
  return "unknown";
}

std::string Icd10Chapter(std::string_view code) {
  if (code.size() < 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < '0' || code[1] > '9' ||
      code[2] < '0' || code[2] > '9') {
    return "";
  }
  struct Range {
    std::string_view first, last, chapter;
  };
  static constexpr Range kChapters[] = {
      {"A00", "B99", "I"},    {"C00", "D48", "II"},   {"D50", "D89", "III"},
      {"E00", "E90", "IV"},   {"F00", "F99", "V"},    {"G00", "G99", "VI"},
      {"H00", "H59", "VII"},  {"H60", "H95", "VIII"}, {"I00", "I99", "IX"},
      {"J00", "J99", "X"},    {"K00", "K93", "XI"},   {"L00", "L99", "XII"},
      {"M00", "M99", "XIII"}, {"N00", "N99", "XIV"},  {"O00", "O99", "XV"},
      {"P00", "P96", "XVI"},  {"Q00", "Q99", "XVII"}, {"R00", "R99", "XVIII"},
      {"S00", "T98", "XIX"},  {"U00", "U99", "XXII"}, {"V01", "Y98", "XX"},
      {"Z00", "Z99", "XXI"},
  };
  const std::string_view head = code.substr(0, 3);
  for (const auto& r : kChapters) {
    if (head >= r.first && head <= r.last) return std::string(r.chapter);
  }
  return "";
}

std::string_view ComponentName(Component c) {
  for (const auto& e : kComponents) {
    if (e.component == c) return e.name;
  }
  return "";
}

}  // namespace eds::aggregate
