// Store::Impl: the state behind Store, shared by store.cc, store_keys.cc and backup.cc.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "storage/audit_log.h"
#include "storage/fact_observer.h"
#include "storage/internal/id_claims.h"
#include "storage/internal/key_cache.h"
#include "storage/internal/record_block.h"
#include "storage/internal/write_queue.h"
#include "storage/key_ring.h"
#include "storage/record_codec.h"
#include "storage/store.h"

namespace eds::storage {

Status FromRocksStatus(const rocksdb::Status& s, std::string_view what);

// Commits `ops` (synced) to a store directory opened on its own, then flushes and compacts every
// column family so no older version of what they replace or delete stays in its files.
Status ApplyAndPurge(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                     const std::vector<internal::WriteOp>& ops);

// Opens a backup (a store directory of its own) and runs `fn` on it.
Status WithBackupDb(
    const std::string& path,
    const std::function<Status(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& fn);

// What a prepared write commits, and what follows once it is durable.
struct Store::PreparedWrite::Parts {
  std::vector<internal::WriteOp> ops;  // sealed
  std::vector<AuditEvent> events;
  std::vector<FactChange> changes;
  std::vector<std::pair<std::string, uint64_t>> riding;          // patient keys it carries
  std::vector<std::pair<std::string, std::string>> new_aliases;  // hashed alias, pseudonym
  uint64_t records = 0;
  uint64_t markers = 0;     // collector markers it adds
  internal::IdClaim claim;  // its global ids, until it is durable (or dropped)
};

struct Store::Impl {
  ~Impl();  // closes the database when still open (also after a failed open)
  StoreOptions options;
  Clock* clock = nullptr;
  // Tells this store from any opened before in the process (caches that outlive a call).
  const uint64_t instance = next_instance.fetch_add(1) + 1;
  static inline std::atomic<uint64_t> next_instance{0};
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by internal::Cf
  std::unique_ptr<RecordCodec> codec;
  // The store's format marker (column_families.h); below kStoreFormat until CommitFormat().
  std::atomic<int> format{0};
  std::unique_ptr<AuditChain> chain;
  std::unique_ptr<internal::WriteQueue> queue;

  // Store secrets, unwrapped at open.
  std::unique_ptr<SecretKey> index_key;  // keyed hashes of pseudonyms and logical ids
  std::unique_ptr<SecretKey> dict_key;   // seals zstd dictionaries (they hold record fragments)
  std::unique_ptr<SecretKey> alias_key;  // seals the pseudonyms aliases point to

  // Key state. ring and the caches change under key_mu (rotation, erasure, new patients).
  Mutex key_mu;
  std::unique_ptr<KeyRing> ring EDS_GUARDED_BY(key_mu);
  std::unordered_map<std::string, uint64_t> patient_cache EDS_GUARDED_BY(key_mu);
  internal::KeyCache dek_cache EDS_GUARDED_BY(key_mu){4096};
  // Patients numbered by this process whose data key is not durable yet. Their key entries ride
  // along in every batch that stores records for them, until one such batch commits: a record is
  // never durable without its key, and a new patient costs no extra fsync.
  struct PendingPatient {
    uint64_t no = 0;
    std::string wrapped;  // the data key wrapped under the current master key
  };
  std::unordered_map<std::string, PendingPatient> pending EDS_GUARDED_BY(key_mu);    // by hash
  std::unordered_map<uint64_t, std::string> pending_wrapped EDS_GUARDED_BY(key_mu);  // by number
  uint64_t next_patient_no EDS_GUARDED_BY(key_mu) = 1;

  // Index entries known to be durable, so repeated writes (a patient's next message) do not
  // write them again: alias hash -> pseudonym. Cleared when an erasure or a merge changes
  // aliases; dropped wholesale when it grows too big.
  Mutex cache_mu;
  std::unordered_map<std::string, std::string> durable_aliases EDS_GUARDED_BY(cache_mu);
  void ForgetDurableIndexes();

  // Facts observers (Store::WatchFacts) and, while one loads, the changes committed meanwhile
  // (applied after the load, which reads a snapshot taken before them).
  struct Watch {
    FactObserver* observer = nullptr;
    bool loading = true;
    std::vector<FactChange> pending;
  };
  Mutex observer_mu;
  std::vector<std::unique_ptr<Watch>> watches EDS_GUARDED_BY(observer_mu);
  // The write queue's commit hook.
  void OnCommit(const std::vector<FactChange>& changes);
  // Feeds `observer` every fact as of `snapshot`.
  Status LoadFacts(FactObserver* observer, const rocksdb::Snapshot* snapshot);

  // Dictionary training runs in the background when enough records exist (store_dictionary.cc).
  std::atomic<bool> training{false};
  std::atomic<uint32_t> trainings_tried{0};  // since open; a dictionary not adopted counts
  // Bytes of the current dictionary: set at open, then read and set by the trainer thread only.
  std::string current_dict;
  std::atomic<uint64_t> writes_since_check{0};
  std::thread trainer;

  // Record blocks (store format 3, store_blocks.cc). Blocks are written once the format is 3.
  bool blocks_allowed() const { return format.load() >= 3; }
  // What one write must seal: a record's, facts' or block's plaintext into the value of ops[op].
  struct SealJob {
    enum class Kind { kRecord, kFacts, kBlock };
    Kind kind = Kind::kRecord;
    size_t op = 0;
    size_t dek = 0;  // index into the write's data keys
    const std::string* plaintext = nullptr;
  };
  struct PlacedRecord {
    std::string hashed_id;
    const std::string* payload = nullptr;
    bool global_id = false;
    bool stored_before = false;  // a global id: set by Refile
    bool owned_here = false;     // a global id: its owner entry names this record's patient
    bool alone = false;          // never in a block
  };
  // Appends the records ops of one patient's records (distinct hashed ids): in blocks when
  // blocks are allowed and there are two or more, each in its own envelope otherwise. Block
  // plaintexts are kept in `bodies` until sealed.
  void PlaceRecords(uint64_t no, size_t dek, const std::vector<PlacedRecord>& records,
                    std::vector<internal::WriteOp>* ops, std::deque<std::string>* bodies,
                    std::vector<SealJob>* jobs);
  // Seals every job's plaintext into its op (on two threads for big writes).
  Status Seal(std::vector<internal::WriteOp>& ops, const std::vector<SealJob>& jobs,
              const std::vector<KeyBytes>& deks);
  // Appends a collector marker for each block that holds a record `keys` are about to replace;
  // returns how many.
  Result<uint64_t> MarkReplaced(const std::vector<std::string>& keys,
                                std::vector<internal::WriteOp>* ops);
  // A global logical id is stored once: for the records of a write with a global id (and their
  // patient number) stored under another patient (a resource whose subject changed), appends
  // the deletion of the old record, facts and owner entry, the facts change, and the old key to
  // `replaced`; sets each one's stored_before (`complete`: also for records filed under no
  // patient, which costs a look-up). The caller holds a claim on the ids (id_claims.h), so a
  // concurrent write of one of them under another patient looks up after this one is durable.
  Status Refile(const std::vector<std::pair<PlacedRecord*, uint64_t>>& global, bool complete,
                std::vector<internal::WriteOp>* ops, std::vector<FactChange>* changes,
                std::vector<std::string>* replaced);
  // Runs the collector over every marker (store_blocks.cc).
  Result<BlockCollectReport> CollectBlocks();
  // Counts the markers left by the last run into gc_waiting (at open).
  Status CountCollectorMarkers();
  // Starts the collector in the background once enough markers wait.
  void MaybeCollect(uint64_t new_markers);
  std::atomic<uint64_t> gc_waiting{0};  // markers written since the last collection
  std::atomic<bool> collecting{false};
  std::atomic<bool> closing{false};
  std::thread collector;

  rocksdb::ColumnFamilyHandle* cf(internal::Cf c) const { return handles[static_cast<size_t>(c)]; }
  // The value at `key`, or nullopt; read as of `snapshot` when given.
  Result<std::optional<std::string>> Get(internal::Cf c, std::string_view key,
                                         const rocksdb::Snapshot* snapshot = nullptr);
  // For each key, whether `c` holds it; `values` gets what it holds.
  Result<std::vector<bool>> MultiGet(internal::Cf c, const std::vector<rocksdb::Slice>& keys,
                                     std::vector<rocksdb::PinnableSlice>* values);

  internal::IdClaims id_claims;

  // Store::Prepare and Store::Commit.
  Status PrepareRecords(const std::vector<RecordWrite>& records, const AuditEvent& event,
                        const std::vector<AliasWrite>& aliases,
                        const std::vector<OutboxWrite>& outbox, std::vector<bool>* stored_before,
                        PreparedWrite::Parts* out);
  Status CommitPrepared(PreparedWrite::Parts parts);
  // Appends the ops of outbox changes (sealed entries, the last-sequence marker).
  Status OutboxOps(const std::vector<OutboxWrite>& outbox, std::vector<internal::WriteOp>* ops);
  std::string HashPseudonym(std::string_view patient) const;
  // The fact-bucket entries of a patient (column_families.h): no longer written, removed with
  // their patient.
  Result<std::vector<std::string>> BucketKeysOf(uint64_t patient_no);
  // An iterator for a full or ranged scan (no block-cache pollution, read-ahead).
  std::unique_ptr<rocksdb::Iterator> ScanIterator(internal::Cf c,
                                                  const rocksdb::Snapshot* snapshot = nullptr);
  // Decrypts every record (or facts value) `it` over family `c` meets, in key order, patient by
  // patient: fn(patient number, key, plaintext) returns false to stop. `snapshot` is the
  // iterator's (record blocks are read from it).
  using DecryptFn = std::function<bool(uint64_t, std::string_view key, std::string plain)>;
  Status DecryptAll(rocksdb::Iterator* it, internal::Cf c, const rocksdb::Snapshot* snapshot,
                    const DecryptFn& fn);
  // The audited read of the record at (patient number, hashed logical id).
  Result<std::string> ReadRecord(uint64_t no, const std::string& hashed_id,
                                 const AuditEvent& event);
  std::string HashLogicalId(std::string_view logical_id) const;
  // Patient number of a durable patient (empty pseudonym = 0), else kNotFound.
  Result<uint64_t> LookupPatient(std::string_view patient);
  // Whether patient `no` holds the record with exactly this payload.
  Result<bool> HoldsUnder(uint64_t no, std::string_view logical_id, std::string_view payload);
  // For a write: the patient's number, creating it when new. When its key is not durable yet,
  // appends the key entries (once per write, tracked in `riding`) and, for a new patient, the
  // audit event.
  Result<uint64_t> ResolveForWrite(std::string_view patient, std::vector<internal::WriteOp>* ops,
                                   std::vector<AuditEvent>* events,
                                   std::vector<std::pair<std::string, uint64_t>>* riding);
  // After a successful commit: the riding keys are durable.
  void MarkDurable(const std::vector<std::pair<std::string, uint64_t>>& riding);
  Status DataKey(uint64_t patient_no, KeyBytes* out);
  Status LoadNextPatientNumber();
  // A wrapped store secret under `name` ("s/..."), made and stored durably when missing.
  Result<SecretKey> LoadOrCreateSecret(std::string_view name);
  std::string HashAlias(std::string_view alias) const;

  void MaybeTrainDictionary();
  Status TrainDictionaryNow(uint64_t records);  // `records`: about how many are stored
  Status LoadDictionaries();
  // Flushes every column family and compacts so deleted values leave the files.
  Status PurgeDeleted(internal::Cf c, const std::string& begin, const std::string& end);
  ErasureReport ScrubBackups(const std::vector<internal::WriteOp>& ops);
  std::vector<std::string> RegisteredBackups();
  void Close();
};

// Opens record values, envelopes or references into blocks, for one read or scan: keeps the
// blocks of the patient it reads last, so a scan opens each block once. Block reads use
// `snapshot` (may be null), which the values it is given should come from.
class RecordOpener {
 public:
  RecordOpener(Store::Impl& impl, const rocksdb::Snapshot* snapshot)
      : impl_(impl), snapshot_(snapshot) {}
  ~RecordOpener();
  RecordOpener(const RecordOpener&) = delete;
  RecordOpener& operator=(const RecordOpener&) = delete;

  // The plaintext of the record stored at `key` (a record key) as `value`, under `dek`.
  Result<std::string> Open(std::string_view key, std::string_view value, const KeyBytes& dek);

 private:
  struct Block {
    std::string plain;
    std::vector<internal::BlockSlot> slots;
  };
  void Forget();
  Store::Impl& impl_;
  const rocksdb::Snapshot* snapshot_;
  uint64_t patient_ = UINT64_MAX;
  std::unordered_map<std::string, Block> blocks_;  // by block id
  size_t bytes_ = 0;
};

}  // namespace eds::storage
