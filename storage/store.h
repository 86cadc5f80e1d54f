// Store: the box's record store. RocksDB underneath (column families records, keys, audit, meta);
// every record compressed and encrypted under its patient's data key (RecordCodec); RocksDB keys
// opaque (patient numbers and keyed hashes, never identifiers); every write, read of patient data,
// key operation and admin action appended to the hash-chained audit log in the same atomic,
// synced write. Write() returns only once the data is durable (WAL fsynced); concurrent writers
// are group-committed. Thread-safe. Errors: kInvalidArgument for bad input, kNotFound,
// kFailedPrecondition (wrong master key, store locked by another process), kDataLoss (corrupt or
// tampered bytes), kUnavailable/kInternal for I/O failures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "storage/audit_log.h"
#include "storage/fact_observer.h"
#include "storage/secret_key.h"

namespace eds::storage {

struct StoreOptions {
  std::string data_dir;       // created (mode 0700) when missing
  int compression_level = 3;  // zstd level, 1..19
  // Records stored before the first zstd dictionary is trained; better ones follow at 10x and
  // 100x as many.
  size_t dictionary_training_records = 2000;
  size_t block_cache_mb = 32;
  Clock* clock = nullptr;  // must outlive the store; nullptr = SystemClock
};

// One record to store. `patient` is the patient's pseudonym (opaque bytes; empty for records
// bound to no patient, such as an Organization); `logical_id` names the record within that patient
// (e.g. "Observation/123"): writing the same pair again replaces the record.
struct RecordWrite {
  std::string patient;
  std::string logical_id;
  std::string payload;
  // The record's analytic facts (opaque to the store; encrypted under the same data key, kept
  // apart so aggregates scan them without touching records). nullopt: the record has no facts
  // (a raw message, a marker); "" deletes facts an earlier version of the record had.
  std::optional<std::string> facts = std::nullopt;
  // The logical id names one record whichever patient it is filed under (a FHIR id): a version
  // stored under another patient (its subject corrected) is removed with its facts. Otherwise
  // ids are scoped by patient.
  bool global_id = false;
  // Sealed in its own envelope, never in a record block: a record rewritten at every write (an
  // import's progress) would otherwise leave a dead slot in each block for the collector.
  bool alone = false;
};

// An alias names a patient by another of its identifiers (a hospital number, a FHIR Patient id):
// stored as a keyed hash pointing to the sealed pseudonym, so it can be found again (objection,
// erasure) without being readable on disk.
struct AliasWrite {
  std::string alias;
  std::string patient;  // the pseudonym it stands for
};

// One change to the outbox, an ordered queue of opaque entries by sequence number (the sync
// module's releases waiting for the upstream). `value` nullopt removes the entry.
struct OutboxWrite {
  uint64_t seq = 0;
  std::optional<std::string> value;
};

struct OutboxEntry {
  uint64_t seq = 0;
  std::string value;
};

struct StoreStats {
  uint64_t records_estimate = 0;
  uint64_t patients = 0;
  uint64_t audit_entries = 0;
  uint32_t dictionary_id = 0;
  uint64_t disk_bytes = 0;  // SST + WAL + other files under the data dir
};

struct RecordVerifyReport {
  uint64_t records = 0;
  uint64_t failed = 0;  // records that do not authenticate or decompress
};

// What one run of the record block collector did (Store::CollectBlocks).
struct BlockCollectReport {
  uint64_t markers = 0;           // blocks that had lost records to newer versions
  uint64_t blocks_deleted = 0;    // none of their records left
  uint64_t blocks_rewritten = 0;  // half or fewer left: rewritten without the replaced ones
  uint64_t records_kept = 0;      // in the blocks rewritten
};

struct ErasureReport {
  uint64_t records_deleted = 0;
  std::vector<std::string> backups_scrubbed;
  std::vector<std::string> backups_unreachable;  // registered backups that could not be opened
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options, SecretKey master_key);
  ~Store();  // closes (flushes) the store
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Durable when it returns OK. The batch, its aliases, its outbox changes and its audit entry
  // commit atomically. An outbox sequence must be above LastOutboxSequence() to be added.
  // `stored_before`, when given, gets for each record whether its id was stored before this
  // write (under any patient for a global id; false for other records): FHIR answers an update
  // that creates with 201.
  Status Write(const std::vector<RecordWrite>& records, const AuditEvent& event,
               const std::vector<AliasWrite>& aliases = {},
               const std::vector<OutboxWrite>& outbox = {},
               std::vector<bool>* stored_before = nullptr);
  // Write in two steps, for a caller that prepares its next write while the last one commits
  // (a bulk load). Prepare looks up what the records replace, places and seals them; Commit
  // makes the write durable, and writes commit in the order Commit is called. A prepared write
  // holds its global ids until it is committed or dropped: a Prepare naming one of them waits
  // (so one thread never prepares a second write of an id it holds uncommitted). Records with
  // ids scoped by patient, and aliases, are not held: the caller keeps writes that overlap in
  // those apart. A prepared write dropped without Commit writes nothing; none outlives its store.
  class PreparedWrite {
   public:
    PreparedWrite();
    ~PreparedWrite();
    PreparedWrite(PreparedWrite&&) noexcept;
    PreparedWrite& operator=(PreparedWrite&&) noexcept;
    struct Parts;  // storage/internal/store_impl.h

   private:
    friend class Store;
    std::unique_ptr<Parts> parts_;
  };
  Result<PreparedWrite> Prepare(const std::vector<RecordWrite>& records, const AuditEvent& event,
                                const std::vector<AliasWrite>& aliases = {},
                                const std::vector<OutboxWrite>& outbox = {},
                                std::vector<bool>* stored_before = nullptr);
  Status Commit(PreparedWrite write);
  // The outbox's entries in sequence order (at most `limit`), decrypted. Entries are aggregates,
  // not patient data: no audit entry.
  Result<std::vector<OutboxEntry>> ReadOutbox(size_t limit);
  // The highest sequence ever added to the outbox (0 when none).
  Result<uint64_t> LastOutboxSequence();
  // The pseudonym an alias stands for, or nullopt.
  Result<std::optional<std::string>> ResolveAlias(std::string_view alias);
  // A named secret of this node for other modules (pseudonymisation key, token hashing): made
  // at first use, wrapped under the master key like the store's own, rotated with them.
  Result<SecretKey> Secret(std::string_view name);
  // Audited read of one record: kNotFound when absent.
  Result<std::string> Read(std::string_view patient, std::string_view logical_id,
                           const AuditEvent& event);
  // Audited read of a record by logical id alone, whichever patient it is filed under.
  Result<std::string> ReadAny(std::string_view logical_id, const AuditEvent& event);
  // For each record `which` selects, whether it is stored with exactly this payload (false for
  // the others): idempotent loads skip those. Each run of one patient's records resolves the
  // patient once: a bulk chunk asks about thousands. Nothing leaves the store: no audit entry.
  Result<std::vector<bool>> HoldsEach(const std::vector<RecordWrite>& records,
                                      const std::function<bool(const RecordWrite&)>& which);
  // Whether a record exists, without reading it (no audit entry: nothing is decrypted).
  Result<bool> Exists(std::string_view patient, std::string_view logical_id);
  // Decrypts every record in key order; `fn` returns false to stop early. One audit entry.
  using ScanFn = std::function<bool(uint64_t patient_number, std::string_view payload)>;
  Status Scan(const ScanFn& fn, const AuditEvent& event);

  // Decrypts every record's facts, patient by patient (all facts of one patient are contiguous),
  // in key order; `fn` returns false to stop early. One audit entry.
  using FactScanFn = std::function<bool(uint64_t patient_number, std::string_view facts)>;
  Status ScanFacts(const FactScanFn& fn, const AuditEvent& event);
  // The store's number for a patient (what scans report), or kNotFound.
  Result<uint64_t> PatientNumber(std::string_view patient);

  // Hands `observer` every fact stored now (fresh kPut changes), then every durable change of
  // facts, in commit order, until UnwatchFacts(). An observer must stay alive until unwatched
  // and be watched once (kFailedPrecondition). One audit entry: the facts are decrypted.
  Status WatchFacts(FactObserver* observer, const AuditEvent& event);
  void UnwatchFacts(FactObserver* observer);

  // A merge: every record and fact of `from` moves to `into` (re-encrypted under its data key),
  // aliases that named `from` name `into`, and `from`'s data key is deleted; one atomic, durable
  // write. Returns the number of records moved; 0 when `from` has none.
  Result<uint64_t> MergePatients(std::string_view from, std::string_view into,
                                 const AuditEvent& event);

  // Crypto-shredding: deletes the patient's data key and records, purges them from the live files
  // and from every registered backup it can reach. kNotFound for an unknown patient.
  Result<ErasureReport> ErasePatient(std::string_view patient, const AuditEvent& event);
  // Re-wraps every data key and store secret under `new_master`, atomically; records untouched.
  Status RotateMasterKey(SecretKey new_master, const AuditEvent& event);

  // Appends an admin action to the audit log (durable).
  Status Audit(const AuditEvent& event);
  Result<AuditVerifyReport> VerifyAudit();
  Result<std::vector<AuditEntry>> ReadAudit(uint64_t from_seq, size_t limit);
  Result<RecordVerifyReport> VerifyRecords();

  // Online, consistent backup into a new directory under `dir`; returns its path.
  Result<std::string> Backup(const std::string& dir, const AuditEvent& event);

  // Reclaims record blocks that lost records to newer versions (store format 3): a block none of
  // whose records is current is deleted; one with half or fewer current is rewritten without the
  // others; the rest wait until more of their records are replaced. Runs in the
  // background after writes too; audited when it acts.
  Result<BlockCollectReport> CollectBlocks();

  // Lets the store take the newest format (format 3: record blocks, envelopes of version 2). A
  // store opened in an older format keeps writing what its previous edsd reads, so that a
  // firmware update that fails its health check can roll back to that edsd; call this once no
  // rollback can happen (the running firmware is committed). Durable; audited once; idempotent.
  Status CommitFormat();
  // The store's format (internal::kStoreFormat once committed).
  int format() const;

  StoreStats Stats();
  std::string MasterKeyId() const;  // hex, for status output
  const std::string& data_dir() const;

  struct Impl;
  // Used by the opening code only (Impl is defined in storage/internal).
  explicit Store(std::unique_ptr<Impl> impl);

 private:
  Status RotateLocked(SecretKey new_master, const AuditEvent& event);  // holds the key mutex
  std::unique_ptr<Impl> impl_;
};

// Offline restore: moves any existing data dir aside (never deletes it) and copies the backup in.
// kFailedPrecondition when the data dir is in use by a running daemon. Returns the path the old
// data dir was moved to (empty when there was none).
Result<std::string> RestoreBackup(const std::string& backup_dir, const std::string& data_dir);

}  // namespace eds::storage
