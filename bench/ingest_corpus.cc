// ingest_corpus: builds the corpus of the ingest benchmark (bench/run_ingest_benchmark.sh) from
// the Synthea R4 transaction bundles, once. Run by hand, never by ctest.
//   ingest_corpus --bundles DIR --out DIR --resources N --messages M [--bundle-entries 100]
// Writes into OUT:
//   resources.ndjson  N resources, one compact resource a line. Bundle by bundle (sorted by
//                     path): the Patient first, then the other resources in bundle order;
//                     references "urn:uuid:X" become "Type/X". The bundles are cycled and pass p
//                     appends "-p<p>" to every id, every reference target and every
//                     Patient.identifier value, so every pass brings new resources and new
//                     patients. A resource met again in a later bundle of the same pass (shared
//                     Organizations and Practitioners) is written once per pass.
//   bundles.ndjson    the same resources, in the same order, as transaction Bundles of
//                     --bundle-entries entries ("PUT Type/id"), one Bundle a line.
//   messages.hl7      M HL7 v2.5 messages, one a line (segments end with \r), cycled the same
//                     way: for every Patient an ADT^A04, then ORU^R01 messages for its
//                     Observations (consecutive ones of one encounter and time, at most 10 OBX
//                     each; one OBX per component of a component-only Observation).
// Prints one JSON summary line; exit status 1 on any error.
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

namespace fs = std::filesystem;

// Stands in templates where the pass suffix goes. Compact JSON holds no raw control character.
constexpr char kMark = '\x01';

struct TemplateResource {
  std::string type;
  std::string id;    // without the suffix
  std::string json;  // compact, with kMark after every id that takes the suffix
};

struct Templates {
  std::vector<TemplateResource> resources;
  std::vector<std::string> messages;  // with kMark after the control id and the patient id
  uint64_t bundles = 0;
  uint64_t adt = 0;
  uint64_t oru = 0;
  uint64_t obx = 0;
  uint64_t duplicates_skipped = 0;
  uint64_t unresolved_references = 0;
  uint64_t observations_without_value = 0;
};

Status JsonError(const fs::path& file, std::string_view what, simdjson::error_code error) {
  return DataLossError(file.string() + ": " + std::string(what) + ": " +
                       simdjson::error_message(error));
}

std::string_view StringAt(simdjson::dom::element e, std::string_view pointer) {
  std::string_view v;
  if (e.at_pointer(pointer).get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

// A value made safe for an HL7 field: delimiters escaped, line breaks flattened.
std::string Hl7Escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '|':
        out += "\\F\\";
        break;
      case '^':
        out += "\\S\\";
        break;
      case '&':
        out += "\\T\\";
        break;
      case '~':
        out += "\\R\\";
        break;
      case '\\':
        out += "\\E\\";
        break;
      case '\r':
      case '\n':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

// FHIR dateTime ("2013-12-11T13:55:57+00:00", fraction optional) to an HL7 TS
// ("20131211135557+0000").
std::string Hl7Timestamp(std::string_view t) {
  std::string out;
  size_t i = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      out += c;
    } else if ((c == '-' && out.size() < 8) || c == ':' || c == 'T') {
      continue;
    } else {
      break;
    }
  }
  if (i < t.size() && t[i] == '.') {
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
    }
  }
  if (i < t.size() && t[i] == 'Z') {
    out += "+0000";
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    for (; i < t.size(); ++i) {
      if (t[i] != ':') out += t[i];
    }
  }
  return out;
}

std::string CodingSystem(std::string_view uri) {
  if (uri == "http://loinc.org") return "LN";
  if (uri == "http://snomed.info/sct") return "SCT";
  return "";
}

// code^text^system of the first coding of a CodeableConcept.
std::string CodedElement(simdjson::dom::element cc) {
  simdjson::dom::element coding;
  if (cc.at_pointer("/coding/0").get(coding) != simdjson::SUCCESS) return "";
  const std::string_view code = StringAt(coding, "/code");
  if (code.empty()) return "";
  std::string_view text = StringAt(coding, "/display");
  if (text.empty()) text = StringAt(cc, "/text");
  return Hl7Escape(code) + "^" + Hl7Escape(text) + "^" + CodingSystem(StringAt(coding, "/system"));
}

// OBX-2, OBX-5 and OBX-6 of a value[x] held by `e` (an Observation or one of its components);
// empty type when it holds none this feed sends.
struct ObxValue {
  std::string type;
  std::string value;
  std::string unit;
};

ObxValue ValueOf(simdjson::dom::element e) {
  simdjson::dom::element v;
  if (e["valueQuantity"].get(v) == simdjson::SUCCESS) {
    simdjson::dom::element number;
    if (v["value"].get(number) != simdjson::SUCCESS || !number.is_number()) return {};
    std::string_view unit = StringAt(v, "/code");
    if (unit.empty()) unit = StringAt(v, "/unit");
    return {"NM", simdjson::minify(number), Hl7Escape(unit)};
  }
  if (e["valueCodeableConcept"].get(v) == simdjson::SUCCESS) {
    std::string coded = CodedElement(v);
    if (coded.empty()) return {};
    return {"CE", std::move(coded), ""};
  }
  std::string_view s;
  if (e["valueString"].get_string().get(s) == simdjson::SUCCESS && !s.empty()) {
    return {"ST", Hl7Escape(s), ""};
  }
  return {};
}

struct Obx {
  std::string code;  // OBX-3
  ObxValue value;
};

// OBX segments for one Observation: its value, or one per valued component.
std::vector<Obx> ObxOf(simdjson::dom::element observation) {
  std::vector<Obx> out;
  simdjson::dom::element code;
  if (observation["code"].get(code) != simdjson::SUCCESS) return out;
  const std::string coded = CodedElement(code);
  if (coded.empty()) return out;
  if (ObxValue v = ValueOf(observation); !v.type.empty()) {
    out.push_back({coded, std::move(v)});
    return out;
  }
  simdjson::dom::array components;
  if (observation["component"].get_array().get(components) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element c : components) {
    simdjson::dom::element component_code;
    if (c["code"].get(component_code) != simdjson::SUCCESS) continue;
    std::string component_coded = CodedElement(component_code);
    ObxValue v = ValueOf(c);
    if (!component_coded.empty() && !v.type.empty()) {
      out.push_back({std::move(component_coded), std::move(v)});
    }
  }
  return out;
}

std::string Msh(std::string_view timestamp, std::string_view type, uint64_t index) {
  return "MSH|^~\\&|SYNTHEA|BENCH|EDS|EDS|" + std::string(timestamp) + "||" + std::string(type) +
         "|M" + std::to_string(index) + kMark + "|P|2.5||||||UNICODE UTF-8\r";
}

// The PID segment of a Synthea Patient; the identifier takes the pass suffix.
std::string Pid(simdjson::dom::element patient, std::string_view id) {
  std::string sex = "U";
  const std::string_view gender = StringAt(patient, "/gender");
  if (gender == "male") sex = "M";
  if (gender == "female") sex = "F";
  if (gender == "other") sex = "O";
  std::string birth;
  for (char c : StringAt(patient, "/birthDate")) {
    if (c != '-') birth += c;
  }
  return "PID|1||" + std::string(id) + kMark + "^^^SYNTHEA&1.2.3.4.5&ISO^PI||" +
         Hl7Escape(StringAt(patient, "/name/0/family")) + "^" +
         Hl7Escape(StringAt(patient, "/name/0/given/0")) + "^^^^^L||" + birth + "|" + sex + "\r";
}

// Builds the HL7 messages of one patient bundle: an ADT^A04, then ORU^R01s.
class MessageBuilder {
 public:
  MessageBuilder(Templates& t, simdjson::dom::element patient, std::string_view patient_id)
      : t_(t), pid_(Pid(patient, patient_id)) {
    t_.messages.push_back(Msh("20240101120000+0000", "ADT^A04^ADT_A01", t_.messages.size()) +
                          "EVN|A04|20240101120000+0000\r" + pid_ + "PV1|1|O\r");
    ++t_.adt;
  }
  ~MessageBuilder() { Flush(); }

  void AddObservation(simdjson::dom::element observation) {
    std::vector<Obx> obx = ObxOf(observation);
    if (obx.empty()) {
      ++t_.observations_without_value;
      return;
    }
    const std::string_view when = StringAt(observation, "/effectiveDateTime");
    const std::string key =
        std::string(StringAt(observation, "/encounter/reference")) + "|" + std::string(when);
    if (key != key_ || obx_.size() + obx.size() > kMaxObx) Flush();
    key_ = key;
    timestamp_ = Hl7Timestamp(when);
    for (Obx& o : obx) obx_.push_back(std::move(o));
  }

 private:
  static constexpr size_t kMaxObx = 10;

  void Flush() {
    if (obx_.empty()) return;
    const uint64_t index = t_.messages.size();
    std::string m = Msh(timestamp_, "ORU^R01^ORU_R01", index) + pid_;
    m += "OBR|1||M" + std::to_string(index) + kMark + "|" + obx_.front().code + "|||" + timestamp_ +
         std::string(18, '|') + "F\r";
    int n = 0;
    for (const Obx& o : obx_) {
      m += "OBX|" + std::to_string(++n) + "|" + o.value.type + "|" + o.code + "||" + o.value.value +
           "|" + o.value.unit + "|||||F|||" + timestamp_ + "\r";
    }
    t_.messages.push_back(std::move(m));
    ++t_.oru;
    t_.obx += obx_.size();
    obx_.clear();
  }

  Templates& t_;
  const std::string pid_;
  std::string key_;
  std::string timestamp_;
  std::vector<Obx> obx_;
};

// Compact JSON of a Patient whose identifier values take the pass suffix.
Result<std::string> MarkPatientIdentifiers(const std::string& json) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, false);
  if (j.is_discarded()) return DataLossError("a Patient is not valid JSON");
  if (auto it = j.find("identifier"); it != j.end() && it->is_array()) {
    for (auto& identifier : *it) {
      auto value = identifier.find("value");
      if (value != identifier.end() && value->is_string()) {
        *value = value->get<std::string>() + kMark;
      }
    }
  }
  std::string out = j.dump();
  // dump() escapes the mark; put the raw byte back.
  for (size_t pos = out.find("\\u0001"); pos != std::string::npos; pos = out.find("\\u0001", pos)) {
    out.replace(pos, 6, 1, kMark);
  }
  return out;
}

// Marks the resource's own id (its first "id" member with that value) and rewrites
// "urn:uuid:X" references to "Type/X" + mark.
std::string MarkIdsAndReferences(std::string json, std::string_view id,
                                 const std::unordered_map<std::string, std::string>& targets,
                                 uint64_t& unresolved) {
  const std::string own = "\"id\":\"" + std::string(id) + "\"";
  if (size_t pos = json.find(own); pos != std::string::npos) {
    json.insert(pos + own.size() - 1, 1, kMark);
  }
  static constexpr std::string_view kRef = "\"reference\":\"urn:uuid:";
  for (size_t pos = json.find(kRef); pos != std::string::npos; pos = json.find(kRef, pos)) {
    const size_t value = pos + kRef.size() - 9;  // at "urn:uuid:"
    const size_t end = json.find('"', value);
    if (end == std::string::npos) break;
    auto it = targets.find(json.substr(value, end - value));
    if (it == targets.end()) {
      ++unresolved;
      pos = end;
      continue;
    }
    const std::string replacement = it->second + kMark;
    json.replace(value, end - value, replacement);
    pos = value + replacement.size();
  }
  return json;
}

Result<simdjson::dom::array> Entries(simdjson::dom::parser& parser, const fs::path& file) {
  simdjson::dom::element doc;
  if (auto error = parser.load(file.string()).get(doc); error) {
    return JsonError(file, "not JSON", error);
  }
  simdjson::dom::array entries;
  if (auto error = doc["entry"].get_array().get(entries); error) {
    return JsonError(file, "no entry array", error);
  }
  return entries;
}

Result<Templates> BuildTemplates(const std::string& bundles_dir) {
  EDS_ASSIGN_OR_RETURN(std::vector<fs::path> files, ListBundles(bundles_dir));
  simdjson::dom::parser parser;
  // Every fullUrl of every bundle, to the "Type/id" it names.
  std::unordered_map<std::string, std::string> targets;
  for (const fs::path& file : files) {
    EDS_ASSIGN_OR_RETURN(simdjson::dom::array entries, Entries(parser, file));
    for (simdjson::dom::element entry : entries) {
      const std::string_view full_url = StringAt(entry, "/fullUrl");
      const std::string_view type = StringAt(entry, "/resource/resourceType");
      const std::string_view id = StringAt(entry, "/resource/id");
      if (!full_url.empty() && !type.empty() && !id.empty()) {
        targets.emplace(std::string(full_url), std::string(type) + "/" + std::string(id));
      }
    }
  }

  Templates t;
  std::unordered_set<std::string> seen;
  for (const fs::path& file : files) {
    EDS_ASSIGN_OR_RETURN(simdjson::dom::array entries, Entries(parser, file));
    std::vector<simdjson::dom::element> ordered;
    for (simdjson::dom::element entry : entries) {
      simdjson::dom::element resource;
      if (auto error = entry["resource"].get(resource); error) {
        return JsonError(file, "entry without a resource", error);
      }
      ordered.push_back(resource);
    }
    std::stable_partition(ordered.begin(), ordered.end(), [](simdjson::dom::element r) {
      return StringAt(r, "/resourceType") == "Patient";
    });
    std::optional<MessageBuilder> messages;
    for (simdjson::dom::element resource : ordered) {
      const std::string_view type = StringAt(resource, "/resourceType");
      const std::string_view id = StringAt(resource, "/id");
      if (type.empty() || id.empty()) {
        return DataLossError(file.string() + ": a resource without resourceType or id");
      }
      if (!seen.insert(std::string(type) + "/" + std::string(id)).second) {
        ++t.duplicates_skipped;
        continue;
      }
      std::string json = simdjson::minify(resource);
      if (json.find(kMark) != std::string::npos || json.find("\\u0001") != std::string::npos) {
        return DataLossError(file.string() + ": " + std::string(id) + " holds U+0001");
      }
      if (type == "Patient") {
        EDS_ASSIGN_OR_RETURN(json, MarkPatientIdentifiers(json));
        if (!messages) messages.emplace(t, resource, id);
      } else if (type == "Observation" && messages) {
        messages->AddObservation(resource);
      }
      t.resources.push_back(
          {std::string(type), std::string(id),
           MarkIdsAndReferences(std::move(json), id, targets, t.unresolved_references)});
    }
    ++t.bundles;
  }
  if (t.resources.empty() || t.messages.empty()) {
    return DataLossError("the bundles hold no resources or no patients");
  }
  return t;
}

std::string Expand(const std::string& text, const std::string& suffix) {
  std::string out;
  out.reserve(text.size() + 4 * suffix.size());
  size_t from = 0;
  for (size_t pos = text.find(kMark); pos != std::string::npos; pos = text.find(kMark, from)) {
    out.append(text, from, pos - from).append(suffix);
    from = pos + 1;
  }
  out.append(text, from, std::string::npos);
  return out;
}

// Buffered output file.
class Output {
 public:
  static Result<Output> Open(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return UnavailableError("cannot write " + path);
    return Output(f, path);
  }
  Output(Output&& o) noexcept : f_(o.f_), path_(std::move(o.path_)), buf_(std::move(o.buf_)) {
    o.f_ = nullptr;
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output() {
    if (f_ != nullptr) std::fclose(f_);
  }

  void Append(std::string_view s) {
    buf_.append(s);
    bytes_ += s.size();
    if (buf_.size() >= (8u << 20)) Flush();
  }
  uint64_t bytes() const { return bytes_; }
  Status Close() {
    Flush();
    const bool ok = !failed_ && std::fclose(f_) == 0;
    f_ = nullptr;
    return ok ? OkStatus() : UnavailableError("writing " + path_ + " failed");
  }

 private:
  Output(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      failed_ = true;
    }
    buf_.clear();
  }

  std::FILE* f_;
  std::string path_;
  std::string buf_;
  uint64_t bytes_ = 0;
  bool failed_ = false;
};

Status Prepare(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string bundles_dir, flags.String("bundles"));
  EDS_ASSIGN_OR_RETURN(std::string out_dir, flags.String("out"));
  EDS_ASSIGN_OR_RETURN(uint64_t resources, flags.Number("resources"));
  EDS_ASSIGN_OR_RETURN(uint64_t messages, flags.Number("messages"));
  EDS_ASSIGN_OR_RETURN(uint64_t bundle_entries, flags.Number("bundle-entries", 100));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  const Clock::time_point t0 = Clock::now();
  EDS_ASSIGN_OR_RETURN(Templates t, BuildTemplates(bundles_dir));

  EDS_ASSIGN_OR_RETURN(Output ndjson, Output::Open(out_dir + "/resources.ndjson"));
  EDS_ASSIGN_OR_RETURN(Output bundles, Output::Open(out_dir + "/bundles.ndjson"));
  uint64_t written = 0;
  uint64_t bundle_count = 0;
  uint64_t in_bundle = 0;
  uint64_t resource_passes = 0;
  for (uint64_t pass = 0; written < resources; ++pass, ++resource_passes) {
    const std::string suffix = "-p" + std::to_string(pass);
    for (const TemplateResource& r : t.resources) {
      if (written == resources) break;
      const std::string line = Expand(r.json, suffix);
      ndjson.Append(line);
      ndjson.Append("\n");
      bundles.Append(in_bundle == 0 ? R"({"resourceType":"Bundle","type":"transaction","entry":[)"
                                    : ",");
      bundles.Append(R"({"resource":)");
      bundles.Append(line);
      bundles.Append(R"(,"request":{"method":"PUT","url":")");
      bundles.Append(r.type + "/" + r.id + suffix);
      bundles.Append("\"}}");
      if (++in_bundle == bundle_entries) {
        bundles.Append("]}\n");
        in_bundle = 0;
        ++bundle_count;
      }
      ++written;
    }
  }
  if (in_bundle > 0) {
    bundles.Append("]}\n");
    ++bundle_count;
  }
  const uint64_t ndjson_bytes = ndjson.bytes();
  EDS_RETURN_IF_ERROR(ndjson.Close());
  EDS_RETURN_IF_ERROR(bundles.Close());

  EDS_ASSIGN_OR_RETURN(Output hl7, Output::Open(out_dir + "/messages.hl7"));
  uint64_t sent = 0;
  uint64_t message_passes = 0;
  for (uint64_t pass = 0; sent < messages; ++pass, ++message_passes) {
    const std::string suffix = "-p" + std::to_string(pass);
    for (const std::string& m : t.messages) {
      if (sent == messages) break;
      hl7.Append(Expand(m, suffix));
      hl7.Append("\n");
      ++sent;
    }
  }
  EDS_RETURN_IF_ERROR(hl7.Close());

  nlohmann::json j;
  j["source_bundles"] = t.bundles;
  j["resources_per_pass"] = t.resources.size();
  j["duplicates_skipped_per_pass"] = t.duplicates_skipped;
  j["unresolved_references_per_pass"] = t.unresolved_references;
  j["messages_per_pass"] = t.messages.size();
  j["adt_per_pass"] = t.adt;
  j["oru_per_pass"] = t.oru;
  j["obx_per_pass"] = t.obx;
  j["observations_without_value_per_pass"] = t.observations_without_value;
  j["resources"] = written;
  j["resource_passes"] = resource_passes;
  j["ndjson_bytes"] = ndjson_bytes;
  j["bundles"] = bundle_count;
  j["bundle_entries"] = bundle_entries;
  j["messages"] = sent;
  j["message_passes"] = message_passes;
  j["seconds"] = Seconds(t0, Clock::now());
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) {
  eds::Result<eds::bench::Flags> flags = eds::bench::Flags::Parse(argc, argv, 1);
  eds::Status status = flags.ok() ? eds::bench::Prepare(*flags) : flags.status();
  if (!status.ok()) {
    std::fprintf(stderr, "ingest_corpus: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
