// Corpus of the store benchmark: FHIR resources from Synthea transaction bundles, one a line,
//   "<bundle index>\t<resourceType>/<id>\t<compact JSON>\n"
// where the bundle index is "-" for bundles without a Patient (the shared Organization and
// Practitioner bundles). The logical id is written out so the timed loop parses no JSON.
// WriteCorpus converts a directory of bundles once; CorpusReader streams the file and cycles
// through it as often as needed, so memory stays flat whatever the record count. Pass p makes
// every key distinct: logical id "<type>/<id>#p", patient "patient-<bundle index>-<p>" (or no
// patient). With records_per_patient N > 0, each bundle's records are dealt out to a new patient
// every N lines ("patient-<bundle index>-<p>-<line / N>"), for feeds with fewer records per
// patient than a Synthea life history. CorpusReader is thread-safe. Errors: kNotFound /
// kUnavailable for files that cannot be read or written, kDataLoss for malformed bundles or corpus
// lines.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "storage/store.h"

namespace eds::bench {

struct CorpusSummary {
  uint64_t bundles = 0;
  uint64_t patient_bundles = 0;
  uint64_t resources = 0;
  uint64_t duplicates_skipped = 0;  // a (bundle, logical id) seen before
  uint64_t json_bytes = 0;          // compact JSON only, without the line prefix
};

// Reads every *.json bundle under `bundles_dir` (sorted by path, which fixes the bundle index)
// and writes the corpus to `out_path`.
Result<CorpusSummary> WriteCorpus(const std::string& bundles_dir, const std::string& out_path);

class CorpusReader {
 public:
  // Hands out exactly `total_records` records, cycling through the file.
  static Result<std::unique_ptr<CorpusReader>> Open(const std::string& path, uint64_t total_records,
                                                    uint64_t records_per_patient = 0);

  // The next batch of at most `max` records; empty once all records were handed out.
  Result<std::vector<storage::RecordWrite>> Next(size_t max);
  // Passes started over the file so far.
  uint64_t passes();

 private:
  CorpusReader(std::ifstream in, uint64_t total_records, uint64_t records_per_patient);
  // Reads one line into line_, starting the next pass at end of file.
  Status ReadLine() EDS_REQUIRES(mu_);

  Mutex mu_;
  std::ifstream in_ EDS_GUARDED_BY(mu_);
  const uint64_t records_per_patient_;
  uint64_t remaining_ EDS_GUARDED_BY(mu_);
  uint64_t pass_ EDS_GUARDED_BY(mu_) = 0;
  uint64_t lines_in_pass_ EDS_GUARDED_BY(mu_) = 0;
  std::string line_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::bench
