// ObjectionRegister: patients who exercised their right to object (droit d'opposition). An
// objection is recorded by identifier (system|value), filed under the patient's pseudonym, and
// from then on Pseudonyms() tells the aggregate engine to leave the patient out of every count.
// The register is one encrypted record; changes are durable and audited. Thread-safe.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"

namespace eds::ingest {

struct Objection {
  std::string identifier;  // "system|value" as given
  std::string added;       // RFC 3339
};

class ObjectionRegister {
 public:
  // `store` must outlive the register.
  static Result<std::unique_ptr<ObjectionRegister>> Load(storage::Store& store,
                                                         const Pseudonymizer& pseudonymizer);

  Status Add(const Identifier& id, const std::string& actor);
  Status Remove(const Identifier& id, const std::string& actor);
  std::vector<Objection> List() const;
  // The pseudonyms of every objecting patient, for the aggregate engine to leave out.
  std::vector<std::string> Pseudonyms() const;

 private:
  struct Entry {
    Objection objection;
    std::string pseudonym;  // raw bytes
  };
  ObjectionRegister(storage::Store& store, const Pseudonymizer& p)
      : store_(store), pseudonymizer_(p) {}
  std::string PseudonymOf(const Identifier& id) const;
  Status Save(const std::vector<Entry>& entries, const storage::AuditEvent& event);

  storage::Store& store_;
  const Pseudonymizer& pseudonymizer_;
  mutable Mutex mu_;
  std::vector<Entry> entries_ EDS_GUARDED_BY(mu_);
};

// "system|value" to an Identifier; kInvalidArgument when either part is missing.
Result<Identifier> ParseIdentifier(std::string_view text);

}  // namespace eds::ingest
