// aggregate_benchmark: the aggregate engine over a store of repeated Synthea data, and the same
// facts exported for PostgreSQL and SQLite (bench/run_aggregate_benchmark.sh). Run by hand,
// never by ctest.
//   aggregate_benchmark load --out DIR --bundles UNPACKED_DIR --resources N [--chunk-lines 3000]
//     A fresh store in DIR/data under a random master key written to DIR/master.key (32 raw
//     bytes), fed through ingest::BulkIngest in chunks of whole lines: the Synthea bundles
//     (sorted by path; each bundle's Patient first, "urn:uuid:X" references as "Type/X"),
//     cycled until N resources; pass p appends "-p<p>" to every id, reference target and
//     Patient.identifier value and moves every date ("YYYY-MM-DD" at the start of a string)
//     p * 17 days later, so each pass brings new patients whose events land in other weeks.
//   aggregate_benchmark compute --store DIR --period 2019-06 --pack FILE [--runs 3]
//                               [--measures URL,URL,...] [--cells FILE]
//     The store's facts loaded into a FactIndex (timed once, as edsd does at its first release),
//     then ComputeMeasures over it for the period, timed `runs` times (median); per-measure
//     populations;
//     with --cells, every population and stratifier cell as "measure<TAB>stratifier<TAB>value
//     <TAB>count" (measure: the last segment of its url; components joined by '|').
//     --measures keeps only the pack's measures whose url (or its last segment) is listed.
//   aggregate_benchmark export --store DIR --out FILE.tsv
//     Every fact of every patient (demographics applied as the engine does), one row per fact
//     and code: patient, type, system, code, day, age_months, sex, class, unit, code_no.
//     A fact without codes gives one row (system \N, code ""); code_no numbers a fact's codes
//     from 0, so "code_no = 0" picks one row per fact. Unknown days are \N, unknown ages -1.
// Each mode ends with one JSON summary line on stdout; exit status 1 on any error.
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "aggregate/engine.h"
#include "aggregate/measure_pack.h"
#include "aggregate/period.h"
#include "bench/ingest_util.h"
#include "common/status_macros.h"
#include "ingest/bulk_ingest.h"
#include "ingest/facts.h"
#include "ingest/pseudonymizer.h"
#include "storage/secret_key.h"
#include "storage/store.h"

namespace eds::bench {
namespace {

namespace fs = std::filesystem;

// Marks in a template: kIdMark after every id that takes the pass suffix, kDateMark before
// every "YYYY-MM-DD" that moves with the pass. Compact JSON holds no raw control character.
constexpr char kIdMark = '\x01';
constexpr char kDateMark = '\x02';
constexpr int32_t kShiftDaysPerPass = 17;

double MiB(uint64_t kib) { return static_cast<double>(kib) / 1024.0; }
double SelfPeakRssMib() { return MiB(PeakRssKib(static_cast<long>(getpid()))); }

// --- store ---------------------------------------------------------------------------------------

Result<std::unique_ptr<storage::Store>> OpenStore(const std::string& dir, bool create) {
  const std::string key_path = dir + "/master.key";
  std::optional<storage::SecretKey> key;
  if (create) {
    std::error_code ec;
    if (fs::exists(dir + "/data", ec)) {
      return FailedPreconditionError(dir + "/data exists: load wants a fresh directory");
    }
    fs::create_directories(dir, ec);
    if (ec) return UnavailableError("cannot create " + dir + ": " + ec.message());
    key.emplace(storage::SecretKey::Random());
    std::ofstream out(key_path, std::ios::binary | std::ios::trunc);
    out.write(key->view().data(), static_cast<std::streamsize>(key->view().size()));
    if (!out.flush()) return UnavailableError("cannot write " + key_path);
    fs::permissions(key_path, fs::perms::owner_read | fs::perms::owner_write, ec);
  } else {
    std::ifstream in(key_path, std::ios::binary);
    if (!in) return NotFoundError("cannot read " + key_path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EDS_ASSIGN_OR_RETURN(storage::SecretKey k, storage::SecretKey::FromBytes(bytes));
    key.emplace(std::move(k));
  }
  storage::StoreOptions options;
  options.data_dir = dir + "/data";
  return storage::Store::Open(options, std::move(*key));
}

// --- load ----------------------------------------------------------------------------------------

struct Templates {
  std::vector<std::string> resources;  // compact JSON with marks, Patient first per bundle
  uint64_t bundles = 0;
  uint64_t duplicates_skipped = 0;
  uint64_t unresolved_references = 0;
  uint64_t dates = 0;
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

// Compact JSON of a Patient whose identifier values take the pass suffix.
Result<std::string> MarkPatientIdentifiers(const std::string& json) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, false);
  if (j.is_discarded()) return DataLossError("a Patient is not valid JSON");
  if (auto it = j.find("identifier"); it != j.end() && it->is_array()) {
    for (auto& identifier : *it) {
      auto value = identifier.find("value");
      if (value != identifier.end() && value->is_string()) {
        *value = value->get<std::string>() + kIdMark;
      }
    }
  }
  std::string out = j.dump();
  // dump() escapes the mark; put the raw byte back.
  for (size_t pos = out.find("\\u0001"); pos != std::string::npos; pos = out.find("\\u0001", pos)) {
    out.replace(pos, 6, 1, kIdMark);
  }
  return out;
}

// Marks the resource's own id and rewrites "urn:uuid:X" references to "Type/X" + mark.
std::string MarkIdsAndReferences(std::string json, std::string_view id,
                                 const std::unordered_map<std::string, std::string>& targets,
                                 uint64_t& unresolved) {
  const std::string own = "\"id\":\"" + std::string(id) + "\"";
  if (size_t pos = json.find(own); pos != std::string::npos) {
    json.insert(pos + own.size() - 1, 1, kIdMark);
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
    const std::string replacement = it->second + kIdMark;
    json.replace(value, end - value, replacement);
    pos = value + replacement.size();
  }
  return json;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Puts kDateMark before every string value that starts with "YYYY-MM-DD" followed by the end
// of the string or a time.
std::string MarkDates(const std::string& json, uint64_t& dates) {
  std::string out;
  out.reserve(json.size() + 64);
  for (size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    if (json[i] != '"' || i + 11 >= json.size()) continue;
    const char* d = json.data() + i + 1;
    const bool date = IsDigit(d[0]) && IsDigit(d[1]) && IsDigit(d[2]) && IsDigit(d[3]) &&
                      d[4] == '-' && IsDigit(d[5]) && IsDigit(d[6]) && d[7] == '-' &&
                      IsDigit(d[8]) && IsDigit(d[9]) && (d[10] == '"' || d[10] == 'T');
    if (date) {
      out += kDateMark;
      ++dates;
    }
  }
  return out;
}

Result<Templates> BuildTemplates(const std::string& bundles_dir) {
  EDS_ASSIGN_OR_RETURN(std::vector<fs::path> files, ListBundles(bundles_dir));
  simdjson::dom::parser parser;
  std::unordered_map<std::string, std::string> targets;  // fullUrl -> "Type/id"
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
      if (json.find(kIdMark) != std::string::npos || json.find(kDateMark) != std::string::npos ||
          json.find("\\u0001") != std::string::npos) {
        return DataLossError(file.string() + ": " + std::string(id) + " holds U+0001 or U+0002");
      }
      if (type == "Patient") {
        EDS_ASSIGN_OR_RETURN(json, MarkPatientIdentifiers(json));
      }
      json = MarkIdsAndReferences(std::move(json), id, targets, t.unresolved_references);
      t.resources.push_back(MarkDates(json, t.dates));
    }
    ++t.bundles;
  }
  if (t.resources.empty()) return DataLossError("the bundles hold no resources");
  return t;
}

// Appends the template with the pass's suffix and date shift to `out`.
void Expand(const std::string& text, const std::string& suffix, int32_t shift_days,
            std::string& out) {
  size_t from = 0;
  for (size_t pos = text.find_first_of("\x01\x02"); pos != std::string::npos;
       pos = text.find_first_of("\x01\x02", from)) {
    out.append(text, from, pos - from);
    if (text[pos] == kIdMark) {
      out.append(suffix);
      from = pos + 1;
      continue;
    }
    const std::string_view date(text.data() + pos + 1, 10);
    const int32_t day = ingest::DayOf(date);
    if (day == ingest::kUnknownDay || shift_days == 0) {
      out.append(date);
    } else {
      const ingest::CivilDate c = ingest::CivilOf(day + shift_days);
      char buf[40];
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year % 10000, c.month, c.day);
      out.append(buf, 10);
    }
    from = pos + 11;
  }
  out.append(text, from, std::string::npos);
}

Status Load(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string out_dir, flags.String("out"));
  EDS_ASSIGN_OR_RETURN(std::string bundles_dir, flags.String("bundles"));
  EDS_ASSIGN_OR_RETURN(uint64_t resources, flags.Number("resources"));
  EDS_ASSIGN_OR_RETURN(uint64_t chunk_lines, flags.Number("chunk-lines", 3000));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  const Clock::time_point t0 = Clock::now();
  EDS_ASSIGN_OR_RETURN(Templates t, BuildTemplates(bundles_dir));
  const double template_seconds = Seconds(t0, Clock::now());
  EDS_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(out_dir, true));
  EDS_ASSIGN_OR_RETURN(storage::SecretKey secret, store->Secret("pseudonym"));
  const ingest::Pseudonymizer pseudonymizer(std::move(secret));
  ingest::BulkIngest bulk(*store, pseudonymizer);

  const Clock::time_point t1 = Clock::now();
  ingest::ImportProgress progress;
  progress.source_id = "aggregate-benchmark";
  std::string chunk;
  uint64_t in_chunk = 0;
  uint64_t fed = 0;
  uint64_t passes = 0;
  uint64_t rejected_shown = 0;
  auto flush = [&]() -> Status {
    if (in_chunk == 0) return OkStatus();
    EDS_ASSIGN_OR_RETURN(ingest::ChunkResult r,
                         bulk.IngestChunk(chunk, progress, "aggregate-benchmark"));
    for (const auto& rej : r.rejected) {
      if (rejected_shown++ < 5) {
        std::fprintf(stderr, "rejected line %llu: %s (%s)\n",
                     static_cast<unsigned long long>(rej.line), rej.reason.c_str(),
                     rej.expression.c_str());
      }
    }
    progress = r.progress;
    chunk.clear();
    in_chunk = 0;
    return OkStatus();
  };
  for (uint64_t pass = 0; fed < resources; ++pass, ++passes) {
    const std::string suffix = "-p" + std::to_string(pass);
    const int32_t shift = static_cast<int32_t>(pass) * kShiftDaysPerPass;
    for (const std::string& r : t.resources) {
      if (fed == resources) break;
      Expand(r, suffix, shift, chunk);
      chunk += '\n';
      ++fed;
      if (++in_chunk == chunk_lines) EDS_RETURN_IF_ERROR(flush());
    }
    if (passes % 10 == 9) {
      std::fprintf(stderr, "load: %llu resources, %.0f s\n", static_cast<unsigned long long>(fed),
                   Seconds(t1, Clock::now()));
    }
  }
  EDS_RETURN_IF_ERROR(flush());
  const double seconds = Seconds(t1, Clock::now());
  const storage::StoreStats stats = store->Stats();
  store.reset();

  nlohmann::json j;
  j["mode"] = "load";
  j["resources"] = fed;
  j["stored"] = progress.stored;
  j["duplicates"] = progress.duplicates;
  j["rejected"] = progress.rejected;
  j["passes"] = passes;
  j["resources_per_pass"] = t.resources.size();
  j["dates_per_pass"] = t.dates;
  j["unresolved_references_per_pass"] = t.unresolved_references;
  j["patients"] = stats.patients;
  j["disk_bytes"] = stats.disk_bytes;
  j["template_seconds"] = template_seconds;
  j["seconds"] = seconds;
  j["resources_per_second"] = seconds > 0 ? static_cast<double>(fed) / seconds : 0.0;
  j["peak_rss_mib"] = SelfPeakRssMib();
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

// --- compute -------------------------------------------------------------------------------------

std::string ShortName(const std::string& url) {
  const size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Status Compute(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string dir, flags.String("store"));
  EDS_ASSIGN_OR_RETURN(std::string period_label, flags.String("period"));
  EDS_ASSIGN_OR_RETURN(std::string pack_path, flags.String("pack", "packs/eds-default.json"));
  EDS_ASSIGN_OR_RETURN(uint64_t runs, flags.Number("runs", 3));
  EDS_ASSIGN_OR_RETURN(std::string measures, flags.String("measures", ""));
  EDS_ASSIGN_OR_RETURN(std::string cells_path, flags.String("cells", ""));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  EDS_ASSIGN_OR_RETURN(aggregate::Period period, aggregate::ParsePeriod(period_label));
  EDS_ASSIGN_OR_RETURN(aggregate::MeasurePack pack, aggregate::LoadMeasurePack(pack_path));
  if (!measures.empty()) {
    const std::vector<std::string> wanted = SplitList(measures);
    std::vector<aggregate::Measure> kept;
    for (auto& m : pack.measures) {
      if (std::find(wanted.begin(), wanted.end(), m.url) != wanted.end() ||
          std::find(wanted.begin(), wanted.end(), ShortName(m.url)) != wanted.end()) {
        kept.push_back(std::move(m));
      }
    }
    if (kept.size() != wanted.size()) {
      return InvalidArgumentError("--measures names a measure the pack does not hold");
    }
    pack.measures = std::move(kept);
  }
  const std::vector<aggregate::MeasurePack> packs = {pack};
  EDS_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(dir, false));

  // As in edsd: the facts are loaded into memory once (the first release after a start), then
  // kept current by the store; each release computes from them.
  aggregate::FactIndex index;
  const Clock::time_point load_start = Clock::now();
  EDS_RETURN_IF_ERROR(store->WatchFacts(&index, {"bench", "facts.load", "", ""}));
  index.ShrinkToFit();
  const double load_seconds = Seconds(load_start, Clock::now());
  uint64_t rows = 0;
  index.Read([&](const aggregate::FactTable& t) { rows = t.rows(); });
  const double load_rss = SelfPeakRssMib();
  const double index_rss = MiB(RssKib(static_cast<long>(getpid())));

  std::vector<double> times;
  std::vector<aggregate::MeasureCounts> counts;
  aggregate::EngineStats stats;
  for (uint64_t run = 0; run < runs; ++run) {
    const Clock::time_point t0 = Clock::now();
    EDS_ASSIGN_OR_RETURN(counts, index.Read([&](const aggregate::FactTable& t) {
      return aggregate::ComputeMeasures(t, packs, period, {}, &stats);
    }));
    times.push_back(Seconds(t0, Clock::now()));
  }
  store->UnwatchFacts(&index);
  const Percentiles p = Summarize(times);

  nlohmann::json populations = nlohmann::json::object();
  std::string cells;
  for (const auto& c : counts) {
    const std::string name = ShortName(c.measure->url);
    populations[name] = c.population;
    std::fprintf(stderr, "%-28s population %llu\n", name.c_str(),
                 static_cast<unsigned long long>(c.population));
    cells += name + "\tpopulation\tall\t" + std::to_string(c.population) + "\n";
    for (const auto& s : c.stratifiers) {
      for (const auto& [values, n] : s.cells) {
        std::string joined;
        for (const auto& v : values) joined += (joined.empty() ? "" : "|") + v;
        cells += name + "\t" + s.stratifier->id + "\t" + joined + "\t" + std::to_string(n) + "\n";
      }
    }
  }
  if (!cells_path.empty()) {
    std::ofstream out(cells_path, std::ios::binary | std::ios::trunc);
    out << cells;
    if (!out.flush()) return UnavailableError("cannot write " + cells_path);
  }
  nlohmann::json j;
  j["mode"] = "compute";
  j["period"] = period.label;
  j["first_day"] = period.first_day;
  j["last_day"] = period.last_day;
  j["measures"] = counts.size();
  j["runs"] = runs;
  j["seconds"] = p.p50;  // median
  j["seconds_min"] = *std::min_element(times.begin(), times.end());
  j["seconds_max"] = p.max;
  j["load_seconds"] = load_seconds;
  j["load_peak_rss_mib"] = load_rss;
  j["rss_after_load_mib"] = index_rss;
  j["index_rows"] = rows;
  j["patients_scanned"] = stats.patients_scanned;
  j["facts_scanned"] = stats.facts_scanned;
  j["peak_rss_mib"] = SelfPeakRssMib();
  j["populations"] = populations;
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

// --- export --------------------------------------------------------------------------------------

// A TSV field: PostgreSQL's COPY text format and SQLite's .import both take it verbatim.
void AppendField(std::string_view v, std::string& out, uint64_t& replaced) {
  for (char c : v) {
    if (c == '\t' || c == '\n' || c == '\r' || c == '\\' || c == '"') {
      out += '_';
      ++replaced;
    } else {
      out += c;
    }
  }
}

void AppendRows(uint64_t patient, const std::vector<ingest::Fact>& facts, std::string& out,
                uint64_t& rows, uint64_t& replaced) {
  const std::string patient_field = std::to_string(patient);
  for (const auto& f : facts) {
    const size_t n = std::max<size_t>(f.codes.size(), 1);
    for (size_t i = 0; i < n; ++i) {
      out += patient_field;
      out += '\t';
      out += std::to_string(static_cast<int>(f.type));
      out += '\t';
      if (f.codes.empty()) {
        out += "\\N\t";
      } else {
        out += std::to_string(static_cast<int>(f.codes[i].system));
        out += '\t';
        AppendField(f.codes[i].code, out, replaced);
      }
      out += '\t';
      out += f.day == ingest::kUnknownDay ? std::string("\\N") : std::to_string(f.day);
      out += '\t';
      out += std::to_string(f.age_months);
      out += '\t';
      out += std::to_string(static_cast<int>(f.sex));
      out += '\t';
      AppendField(f.encounter_class, out, replaced);
      out += '\t';
      AppendField(f.care_unit, out, replaced);
      out += '\t';
      out += std::to_string(i);
      out += '\n';
      ++rows;
    }
  }
}

Status Export(Flags& flags) {
  EDS_ASSIGN_OR_RETURN(std::string dir, flags.String("store"));
  EDS_ASSIGN_OR_RETURN(std::string out_path, flags.String("out"));
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  EDS_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, OpenStore(dir, false));
  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) return UnavailableError("cannot write " + out_path);
  const Clock::time_point t0 = Clock::now();
  uint64_t current = UINT64_MAX;
  std::vector<ingest::Fact> facts;
  std::string buf;
  uint64_t patients = 0;
  uint64_t rows = 0;
  uint64_t replaced = 0;
  bool write_failed = false;
  Status decode_error;
  // As the engine: the patient's (last) Patient fact completes the age and sex of its events;
  // patient 0 (records of no patient) is left out.
  auto flush = [&] {
    if (current == UINT64_MAX || current == 0) return;
    ++patients;
    const ingest::Fact* demographics = nullptr;
    for (const auto& f : facts) {
      if (f.type == ingest::FactType::kPatient) demographics = &f;
    }
    if (demographics != nullptr) {
      ingest::Demographics d;
      d.sex = demographics->sex;
      d.birth_day = demographics->day;
      d.death_day = demographics->end_day;
      d.deceased = demographics->deceased;
      ingest::CompleteFromDemographics(d, &facts);
    }
    AppendRows(current, facts, buf, rows, replaced);
    if (buf.size() >= (8u << 20)) {
      write_failed |= std::fwrite(buf.data(), 1, buf.size(), out) != buf.size();
      buf.clear();
    }
  };
  Status scanned = store->ScanFacts(
      [&](uint64_t no, std::string_view bytes) {
        if (no != current) {
          flush();
          facts.clear();
          current = no;
        }
        auto decoded = ingest::DecodeFacts(bytes);
        if (!decoded.ok()) {
          decode_error = decoded.status();
          return false;
        }
        for (auto& f : *decoded) facts.push_back(std::move(f));
        return true;
      },
      {"system", "aggregate.export", "benchmark", ""});
  flush();
  write_failed |= std::fwrite(buf.data(), 1, buf.size(), out) != buf.size();
  write_failed |= std::fclose(out) != 0;
  EDS_RETURN_IF_ERROR(scanned);
  EDS_RETURN_IF_ERROR(decode_error);
  if (write_failed) return UnavailableError("writing " + out_path + " failed");
  nlohmann::json j;
  j["mode"] = "export";
  j["patients"] = patients;
  j["rows"] = rows;
  j["characters_replaced"] = replaced;
  j["seconds"] = Seconds(t0, Clock::now());
  j["peak_rss_mib"] = SelfPeakRssMib();
  std::printf("%s\n", j.dump().c_str());
  return OkStatus();
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  eds::Result<eds::bench::Flags> flags = eds::bench::Flags::Parse(argc, argv, 2);
  eds::Status status = flags.status();
  if (flags.ok()) {
    if (mode == "load") {
      status = eds::bench::Load(*flags);
    } else if (mode == "compute") {
      status = eds::bench::Compute(*flags);
    } else if (mode == "export") {
      status = eds::bench::Export(*flags);
    } else {
      std::fprintf(stderr, "usage: aggregate_benchmark load|compute|export --flag value ...\n");
      return 2;
    }
  }
  if (!status.ok()) {
    std::fprintf(stderr, "aggregate_benchmark %s: %s\n", mode.c_str(), status.ToString().c_str());
    return 1;
  }
  return 0;
}
