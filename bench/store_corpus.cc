// Corpus conversion and streaming for the store benchmark (format in store_corpus.h).
#include "bench/store_corpus.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <unordered_set>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {

namespace {

namespace fs = std::filesystem;

Status JsonError(const fs::path& file, std::string_view what, simdjson::error_code error) {
  return DataLossError(file.string() + ": " + std::string(what) + ": " +
                       simdjson::error_message(error));
}

// A bundle belongs to a patient when it holds a Patient resource; the others hold resources
// shared by every patient.
bool HasPatient(simdjson::dom::array entries) {
  for (simdjson::dom::element entry : entries) {
    std::string_view type;
    if (entry["resource"]["resourceType"].get_string().get(type) == simdjson::SUCCESS &&
        type == "Patient") {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<CorpusSummary> WriteCorpus(const std::string& bundles_dir, const std::string& out_path) {
  EDS_ASSIGN_OR_RETURN(std::vector<fs::path> files, ListBundles(bundles_dir));
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError("cannot write " + out_path);

  CorpusSummary summary;
  simdjson::dom::parser parser;
  std::unordered_set<std::string> seen;
  for (const fs::path& file : files) {
    simdjson::dom::element doc;
    if (auto error = parser.load(file.string()).get(doc); error) {
      return JsonError(file, "not JSON", error);
    }
    simdjson::dom::array entries;
    if (auto error = doc["entry"].get_array().get(entries); error) {
      return JsonError(file, "no entry array", error);
    }
    const bool has_patient = HasPatient(entries);
    const std::string prefix = has_patient ? std::to_string(summary.bundles) : "-";
    for (simdjson::dom::element entry : entries) {
      simdjson::dom::element resource;
      std::string_view type;
      std::string_view id;
      if (auto error = entry["resource"].get(resource); error) {
        return JsonError(file, "entry without a resource", error);
      }
      if (auto error = resource["resourceType"].get_string().get(type); error) {
        return JsonError(file, "resource without a resourceType", error);
      }
      if (auto error = resource["id"].get_string().get(id); error) {
        return JsonError(file, "resource without an id", error);
      }
      std::string logical_id = std::string(type) + "/" + std::string(id);
      if (!seen.insert(prefix + "\t" + logical_id).second) {
        ++summary.duplicates_skipped;
        continue;
      }
      // Minified JSON escapes every control character, so it holds no tab or newline.
      const std::string json = simdjson::minify(resource);
      out << prefix << '\t' << logical_id << '\t' << json << '\n';
      summary.json_bytes += json.size();
      ++summary.resources;
    }
    ++summary.bundles;
    if (has_patient) ++summary.patient_bundles;
  }
  out.close();
  if (!out) return UnavailableError("writing " + out_path + " failed");
  return summary;
}

Result<std::unique_ptr<CorpusReader>> CorpusReader::Open(const std::string& path,
                                                         uint64_t total_records,
                                                         uint64_t records_per_patient) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open corpus " + path);
  return std::unique_ptr<CorpusReader>(
      new CorpusReader(std::move(in), total_records, records_per_patient));
}

CorpusReader::CorpusReader(std::ifstream in, uint64_t total_records, uint64_t records_per_patient)
    : in_(std::move(in)), records_per_patient_(records_per_patient), remaining_(total_records) {}

uint64_t CorpusReader::passes() {
  MutexLock lock(mu_);
  return pass_ + 1;
}

Status CorpusReader::ReadLine() {
  while (!std::getline(in_, line_)) {
    if (lines_in_pass_ == 0) return DataLossError("the corpus is empty or unreadable");
    in_.clear();
    in_.seekg(0);
    ++pass_;
    lines_in_pass_ = 0;
  }
  ++lines_in_pass_;
  return OkStatus();
}

Result<std::vector<storage::RecordWrite>> CorpusReader::Next(size_t max) {
  std::vector<storage::RecordWrite> batch;
  MutexLock lock(mu_);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(max, remaining_));
  batch.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    EDS_RETURN_IF_ERROR(ReadLine());
    const size_t tab1 = line_.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line_.find('\t', tab1 + 1);
    if (tab2 == std::string::npos) {
      return DataLossError("corpus line " + std::to_string(lines_in_pass_) + " is malformed");
    }
    const std::string pass = std::to_string(pass_);
    const std::string_view bundle(line_.data(), tab1);
    storage::RecordWrite r;
    if (bundle != "-") {
      r.patient.append("patient-").append(bundle).append(1, '-').append(pass);
      if (records_per_patient_ > 0) {
        r.patient.append(1, '-').append(std::to_string(lines_in_pass_ / records_per_patient_));
      }
    }
    r.logical_id = line_.substr(tab1 + 1, tab2 - tab1 - 1) + "#" + pass;
    r.payload = line_.substr(tab2 + 1);
    batch.push_back(std::move(r));
  }
  remaining_ -= n;
  return batch;
}

}  // namespace eds::bench
