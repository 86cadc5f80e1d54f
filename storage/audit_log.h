// Audit log entries and their hash chain. Each entry carries the hash of the one before; the
// hash is a keyed BLAKE2b (the store's audit key) over the previous hash and the entry's bytes,
// so an entry cannot be altered, removed or reordered without breaking the chain, and a chain
// cannot be rebuilt without the key. Format: docs/formats/audit_chain.md.
// Entries name actors and opaque references only: never patient identifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/secret_key.h"

namespace eds::storage {

struct AuditEvent {
  std::string actor;   // "edsctl uid=0", "mllp 10.0.0.5", "admin:alice", "system"
  std::string action;  // "record.write", "record.read", "patient.erase", "key.rotate", ...
  std::string object;  // opaque reference (patient number, count, backup path)
  std::string detail;  // free text without patient data
};

struct AuditEntry {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  AuditEvent event;
  std::string prev_hash;  // 32 bytes; all zero for the first entry
  std::string hash;       // 32 bytes
};

inline constexpr size_t kAuditHashSize = 32;

class AuditChain {
 public:
  explicit AuditChain(SecretKey audit_key) : key_(std::move(audit_key)) {}

  // The stored value of entry `seq` chained to `prev_hash`; sets `hash` to its hash.
  std::string Seal(uint64_t seq, int64_t time_ms, const AuditEvent& event,
                   std::string_view prev_hash, std::string* hash) const;
  // Parses a stored value and checks its own hash (not the link to the previous entry).
  // kDataLoss names what is wrong.
  Result<AuditEntry> Open(std::string_view value) const;

 private:
  std::string Hash(std::string_view prev_hash, std::string_view body) const;
  SecretKey key_;
};

// Outcome of walking the whole chain.
struct AuditVerifyReport {
  uint64_t entries = 0;  // entries checked and found intact before the first break
  bool intact = true;
  uint64_t first_broken = 0;  // sequence number of the first broken link (when !intact)
  std::string reason;         // why that link is broken
};

}  // namespace eds::storage
