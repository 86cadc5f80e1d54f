// IngestErrorLog: the last refusals of the feeds (HL7 ACK AE/AR, FHIR 4xx), so the admin page can
// show a feed's operator why their messages bounce without anyone reading the journal. Entries
// hold only the error text and element path the refusal already names (never field values: the
// HL7 errors and the FHIR reader's issues carry none), the time and the feed. Bounded: the oldest
// entry goes when a new one arrives at capacity. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/mutex.h"

namespace eds::ingest {

struct IngestError {
  int64_t at_ms = 0;   // Unix time in milliseconds
  std::string feed;    // "mllp" or "fhir"
  std::string source;  // the peer ("mllp 10.0.0.5") or the FHIR token and peer
  std::string code;    // "AE" or "AR" for HL7, the HTTP status for FHIR
  std::string reason;  // e.g. "PID(1)-3: Required field missing (101): no patient identifier"
};

class IngestErrorLog {
 public:
  explicit IngestErrorLog(size_t capacity = 50) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Adds `error`, stamping it with the current time when at_ms is 0.
  void Add(IngestError error);
  // Newest first.
  std::vector<IngestError> Recent() const;

 private:
  const size_t capacity_;
  mutable Mutex mu_;
  std::deque<IngestError> errors_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::ingest
