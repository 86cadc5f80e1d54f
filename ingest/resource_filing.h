// Filing: how every feed (FHIR REST, bulk NDJSON, HL7 v2) turns validated resources into store
// writes. A Patient is pseudonymised from its identifiers and leaves aliases (each identifier,
// "Patient/<id>") so it can be found again; any other resource is filed under the patient its
// subject/patient reference names; each record carries its analytic facts.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ingest/facts.h"
#include "ingest/fhir/reader.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"

namespace eds::ingest {

// The resources of one request (a Bundle, a chunk of NDJSON, one HL7 message), ready for one
// Store::Write. Not thread-safe; `store` and `pseudonymizer` must outlive it.
class FilingBatch {
 public:
  FilingBatch(storage::Store& store, const Pseudonymizer& pseudonymizer)
      : store_(store), pseudonymizer_(pseudonymizer) {}

  // Aliases a write not durable yet adds (the bulk chunk before this one, still committing):
  // they name patients before the store's. Must outlive the batch.
  void set_pending_aliases(const PendingAliases* aliases) { pending_aliases_ = aliases; }

  // A Patient with logical id `id`; `text` is what is stored. Its pseudonym is `pseudonym`
  // when the caller knows it (HL7 v2: from PID-3), else found from its identifiers. Returns it.
  std::string AddPatient(const fhir::ParsedResource& patient, const std::string& id,
                         std::string text, std::string pseudonym = "");
  // Any other resource, filed under the patient `subject` ("Patient/x", already resolved from
  // urn:uuid) names, or under no patient; its id is global (it moves when its subject does).
  // Returns the pseudonym ("" for none).
  std::string Add(const fhir::ParsedResource& resource, const std::string& id,
                  const std::string& subject, std::string text);
  // A resource whose patient the caller knows (HL7 v2: the message's PID).
  void AddFor(const std::string& pseudonym, const fhir::ParsedResource& resource,
              const std::string& id, std::string text);
  // A record without facts (a raw message, a marker).
  void AddRaw(const std::string& pseudonym, const std::string& logical_id, std::string payload);
  void AddAlias(const std::string& alias, const std::string& pseudonym);

  // Drops the records `which` selects that the store already holds with exactly this content
  // (a bulk load run again, a patient's details repeated in every message), once everything is
  // added. Returns how many were dropped; on a read error drops none.
  Result<size_t> DropHeld(const std::function<bool(const storage::RecordWrite&)>& which);

  std::vector<storage::RecordWrite>& records() { return records_; }
  std::vector<storage::AliasWrite>& aliases() { return aliases_; }
  bool empty() const { return records_.empty(); }

  // The pseudonym a "Patient/x" reference names: one filed in this batch, one the store knows,
  // else a new one from the logical id (and an alias, so the Patient finds it when it comes).
  std::string PatientOf(const std::string& reference);

 private:
  // The pseudonym of a Patient resource: one of its identifiers already known, else its logical
  // id already known, else its primary identifier's, else one made from its logical id.
  std::string PatientPseudonym(const fhir::ParsedResource& patient, const std::string& id);

  storage::Store& store_;
  const Pseudonymizer& pseudonymizer_;
  const PendingAliases* pending_aliases_ = nullptr;
  std::vector<storage::RecordWrite> records_;
  std::vector<storage::AliasWrite> aliases_;
  std::map<std::string, std::string> pseudonym_of_ref_;  // "Patient/x" -> pseudonym
  std::map<std::string, Demographics> demographics_;     // pseudonym -> demographics
  // pseudonym -> indices in records_ whose facts wait for the patient's age and sex
  std::map<std::string, std::vector<size_t>> awaiting_demographics_;
};

}  // namespace eds::ingest
