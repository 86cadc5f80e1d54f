// FhirTokens: the bearer tokens FHIR clients (the EHR) present. A token is shown once, at
// creation; the box keeps only its keyed hash (BLAKE2b with the node's "tokens" secret), name and
// dates, in one encrypted record. Creation and revocation are durable and audited.
// Thread-safe; `store` must outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "storage/store.h"

namespace eds::ingest {

struct TokenInfo {
  std::string name;
  std::string created;  // RFC 3339
  std::string revoked;  // RFC 3339, or empty while valid
};

class FhirTokens {
 public:
  static Result<std::unique_ptr<FhirTokens>> Load(storage::Store& store);

  // A new token for `name` (letters, digits, '-', '_', '.'; unique among valid tokens).
  Result<std::string> Create(const std::string& name, const std::string& actor);
  Status Revoke(const std::string& name, const std::string& actor);
  std::vector<TokenInfo> List() const;
  // The name of the valid token `token`, or nullopt.
  std::optional<std::string> Authenticate(std::string_view token) const;

 private:
  struct Entry {
    TokenInfo info;
    std::string hash;  // hex
  };
  FhirTokens(storage::Store& store, storage::SecretKey key) : store_(store), key_(std::move(key)) {}
  std::string Hash(std::string_view token) const;
  Status Save(const std::vector<Entry>& entries, const storage::AuditEvent& event)
      EDS_REQUIRES(mu_);

  storage::Store& store_;
  storage::SecretKey key_;
  mutable Mutex mu_;
  std::vector<Entry> entries_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::ingest
