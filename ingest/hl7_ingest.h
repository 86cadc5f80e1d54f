// Hl7Ingest: the store-backed Hl7Sink. Parses each message, refuses what it cannot take with an
// AR/AE ACK naming the place (nothing stored), pseudonymises the patient (PID-3), maps the
// message to FHIR resources, and stores them with the original message and the patient's
// aliases in one durable write before answering AA. A message seen before (same MSH-3/4 and
// MSH-10) is acknowledged again and not stored twice. Thread-safe; `store` must outlive it.
#pragma once

#include <atomic>
#include <string>

#include "ingest/ingest_errors.h"
#include "ingest/mllp/hl7_sink.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"

namespace eds::ingest {

struct Hl7IngestStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> errors{0};    // AE
  std::atomic<uint64_t> rejected{0};  // AR
};

class Hl7Ingest final : public Hl7Sink {
 public:
  // `store`, `pseudonymizer` and `errors` (may be null) must outlive it. Every AE and AR ACK
  // leaves its error (location, code and text) in `errors`.
  Hl7Ingest(storage::Store& store, const Pseudonymizer& pseudonymizer,
            IngestErrorLog* errors = nullptr);

  void HandleMessage(std::string message, const PeerInfo& peer,
                     std::function<void(std::string ack)> reply) override;
  // The same, returning the ACK (for callers that are not a listener).
  std::string Ingest(std::string_view message, const PeerInfo& peer);

  const Hl7IngestStats& stats() const { return stats_; }

 private:
  std::string NextAckId();
  void NoteError(const PeerInfo& peer, std::string_view code, const std::string& reason);

  storage::Store& store_;
  const Pseudonymizer& pseudonymizer_;
  IngestErrorLog* errors_;
  Hl7IngestStats stats_;
  std::atomic<uint64_t> ack_counter_{0};
};

// The FHIR logical id of a patient, derived from its pseudonym (hex of the first 16 bytes).
std::string PatientLogicalId(std::string_view pseudonym);
// The local UTC offset ("+01:00") at this moment, for v2 timestamps without one.
std::string LocalUtcOffset();

}  // namespace eds::ingest
