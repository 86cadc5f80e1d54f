#include "storage/store.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "common/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "storage/internal/open_store.h"
#include "storage/internal/record_format.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

Status FromRocksStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return OkStatus();
  const std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return NotFoundError(msg);
  if (s.IsCorruption()) return DataLossError(msg);
  if (s.IsNoSpace()) return ResourceExhaustedError(msg);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return FailedPreconditionError(
        std::string(what) + ": the data dir is in use by another process (is edsd running?)");
  }
  if (s.IsIOError()) return UnavailableError(msg);
  return InternalError(msg);
}

Result<std::optional<std::string>> Store::Impl::Get(Cf c, std::string_view key,
                                                    const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  const rocksdb::Status s = db->Get(ro, cf(c), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksStatus(s, "store read");
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<bool>> Store::Impl::MultiGet(Cf c, const std::vector<rocksdb::Slice>& keys,
                                                std::vector<rocksdb::PinnableSlice>* values) {
  values->resize(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db->MultiGet(rocksdb::ReadOptions(), cf(c), keys.size(), keys.data(), values->data(),
               statuses.data());
  std::vector<bool> found(keys.size(), false);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    EDS_RETURN_IF_ERROR(FromRocksStatus(statuses[i], "store read"));
    found[i] = true;
  }
  return found;
}

namespace {

rocksdb::ColumnFamilyOptions CfOptions(Cf c, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  if (c == Cf::kRecords || c == Cf::kKeys || c == Cf::kOwners) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  // Encrypted values do not compress: records are compressed before encryption instead. Owner
  // entries are a hash and a patient number whose high bytes are zero: zstd takes them from 35
  // to 22 bytes an entry.
  o.compression = (c == Cf::kAudit)    ? rocksdb::kLZ4Compression
                  : (c == Cf::kOwners) ? rocksdb::kZSTD
                                       : rocksdb::kNoCompression;
  // Owner keys are hashes spread over the whole key range, so each flushed file overlaps all of
  // level 1 and every compaction rewrites it: bigger memtables flush and compact less often
  // (a 1 M-resource import compacted owners for 1.3 s of CPU with 4 MiB).
  o.write_buffer_size = (c == Cf::kRecords)                     ? 32 << 20
                        : (c == Cf::kFacts || c == Cf::kOwners) ? 16 << 20
                                                                : 4 << 20;
  if (c == Cf::kRecords || c == Cf::kOwners) {
    // Writes look up the keys they replace (record blocks), bulk loads whether a record is held
    // already, FHIR updates whether their id is known; most are new, and a memtable bloom
    // filter answers those without a search.
    o.memtable_prefix_bloom_size_ratio = 0.02;
    o.memtable_whole_key_filtering = true;
  }
  o.max_write_buffer_number = 2;
  return o;
}

// A fresh store: master key id, store secrets, the shared data key (patient 0), counters.
Status InitialiseKeys(Store::Impl& impl, const KeyRing& ring) {
  std::vector<WriteOp> ops;
  auto put = [&ops](Cf c, std::string_view k, std::string v) {
    ops.push_back({WriteOp::Kind::kPut, c, std::string(k), std::move(v)});
  };
  put(Cf::kKeys, internal::kMasterKeyIdKey, ring.MasterKeyId());
  for (std::string_view name :
       {internal::kIndexSecretKey, internal::kAuditSecretKey, internal::kDictSecretKey}) {
    put(Cf::kKeys, name, ring.Wrap(internal::SecretContext(name), SecretKey::Random()));
  }
  put(Cf::kKeys, internal::DataKeyKey(0),
      ring.Wrap(internal::DataKeyContext(0), SecretKey::Random()));
  put(Cf::kMeta, internal::kFormatKey, std::to_string(internal::kStoreFormat));
  rocksdb::WriteBatch batch;
  for (const auto& op : ops) {
    EDS_RETURN_IF_ERROR(FromRocksStatus(batch.Put(impl.cf(op.cf), op.key, op.value), "init"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocksStatus(impl.db->Write(wo, &batch), "store initialisation");
}

// The store's format: a store written by a newer edsd is refused rather than misread.
Result<int> ReadFormat(Store::Impl& impl) {
  EDS_ASSIGN_OR_RETURN(auto value, impl.Get(Cf::kMeta, internal::kFormatKey));
  int format = 1;  // the first stores all wrote "1"; a missing value is read as such
  if (value) {
    if (value->empty() || value->size() > 4 ||
        value->find_first_not_of("0123456789") != std::string::npos) {
      return DataLossError("the store's format marker is unreadable");
    }
    format = std::stoi(*value);
  }
  if (format > internal::kStoreFormat) {
    return FailedPreconditionError("the store has format " + std::to_string(format) +
                                   ", written by a newer edsd; this one reads formats up to " +
                                   std::to_string(internal::kStoreFormat));
  }
  return format;
}

Result<std::unique_ptr<SecretKey>> LoadSecret(Store::Impl& impl, const KeyRing& ring,
                                              std::string_view name) {
  EDS_ASSIGN_OR_RETURN(auto wrapped, impl.Get(Cf::kKeys, name));
  if (!wrapped) return DataLossError("store secret " + std::string(name) + " is missing");
  EDS_ASSIGN_OR_RETURN(SecretKey key, ring.Unwrap(internal::SecretContext(name), *wrapped));
  return std::make_unique<SecretKey>(std::move(key));
}

}  // namespace

namespace internal {

Result<std::unique_ptr<Store>> OpenStoreWithEnv(const StoreOptions& options, SecretKey master_key,
                                                rocksdb::Env* env) {
  if (options.data_dir.empty()) return InvalidArgumentError("storage.data_dir is empty");
  if (options.compression_level < 1 || options.compression_level > 19) {
    return InvalidArgumentError("compression level must be 1..19");
  }
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return PermissionDeniedError("cannot create " + options.data_dir + ": " + ec.message());
  ::chmod(options.data_dir.c_str(), 0700);

  auto impl = std::make_unique<Store::Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Get();

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  db_options.max_log_file_size = 1 << 20;
  db_options.keep_log_file_num = 3;
  if (env != nullptr) db_options.env = env;
  auto cache = rocksdb::NewLRUCache(options.block_cache_mb << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kCfNames.size(); ++i) {
    cfs.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i), cache));
  }
  rocksdb::DB* raw = nullptr;
  EDS_RETURN_IF_ERROR(
      FromRocksStatus(rocksdb::DB::Open(db_options, options.data_dir, cfs, &impl->handles, &raw),
                      "opening the store"));
  impl->db.reset(raw);

  auto ring = std::make_unique<KeyRing>(std::move(master_key));
  EDS_ASSIGN_OR_RETURN(auto key_id, impl->Get(Cf::kKeys, kMasterKeyIdKey));
  if (!key_id) {
    EDS_RETURN_IF_ERROR(InitialiseKeys(*impl, *ring));
  } else if (*key_id != ring->MasterKeyId()) {
    return FailedPreconditionError("the master key does not match this store (store key id " +
                                   HexEncode(*key_id) + ", given " +
                                   HexEncode(ring->MasterKeyId()) + ")");
  }
  EDS_ASSIGN_OR_RETURN(const int format, ReadFormat(*impl));
  impl->format = format;
  EDS_ASSIGN_OR_RETURN(impl->index_key, LoadSecret(*impl, *ring, kIndexSecretKey));
  EDS_ASSIGN_OR_RETURN(impl->dict_key, LoadSecret(*impl, *ring, kDictSecretKey));
  EDS_ASSIGN_OR_RETURN(auto audit_key, LoadSecret(*impl, *ring, kAuditSecretKey));
  impl->chain = std::make_unique<AuditChain>(std::move(*audit_key));
  {
    MutexLock lock(impl->key_mu);
    impl->ring = std::move(ring);
  }

  RecordCodecOptions codec_options;
  codec_options.compression_level = options.compression_level;
  impl->codec = std::make_unique<RecordCodec>(codec_options);
  // An older store keeps getting envelopes its edsd can read until CommitFormat(): version 1
  // for format 1, no record blocks below format 3.
  if (impl->format < 2) impl->codec->set_write_version(1);
  EDS_RETURN_IF_ERROR(impl->LoadDictionaries());
  EDS_RETURN_IF_ERROR(impl->LoadNextPatientNumber());
  EDS_RETURN_IF_ERROR(impl->CountCollectorMarkers());

  uint64_t next_seq = 1;
  std::string head(kAuditHashSize, '\0');
  EDS_ASSIGN_OR_RETURN(auto head_value, impl->Get(Cf::kMeta, kAuditHeadKey));
  if (head_value) {
    if (head_value->size() != 8 + kAuditHashSize) return DataLossError("audit head is corrupt");
    next_seq = GetBigEndian64(*head_value) + 1;
    head = head_value->substr(8);
  }
  impl->queue = std::make_unique<WriteQueue>(impl->db.get(), impl->handles, impl->chain.get(),
                                             *impl->clock, next_seq, head);
  impl->queue->set_commit_hook(
      [raw = impl.get()](const std::vector<FactChange>& changes) { raw->OnCommit(changes); });
  EDS_ASSIGN_OR_RETURN(SecretKey alias_key, impl->LoadOrCreateSecret(kAliasSecretKey));
  impl->alias_key = std::make_unique<SecretKey>(std::move(alias_key));
  auto store = std::make_unique<Store>(std::move(impl));
  EDS_RETURN_IF_ERROR(store->Audit({"system", "store.open", "", ""}));
  return store;
}

}  // namespace internal

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options, SecretKey master_key) {
  return internal::OpenStoreWithEnv(options, std::move(master_key), nullptr);
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  if (impl_) impl_->Close();
}

Store::Impl::~Impl() { Close(); }

void Store::Impl::Close() {
  closing = true;
  if (trainer.joinable()) trainer.join();
  if (collector.joinable()) collector.join();
  if (!db) return;
  // Every write was synced already; flushing only shortens the next open. After a failed write
  // RocksDB is in an error state where a flush must not be attempted.
  if (queue && !queue->failed()) {
    db->Flush(rocksdb::FlushOptions(), handles).PermitUncheckedError();
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  handles.clear();
  db->Close().PermitUncheckedError();
  db.reset();
}

std::string Store::Impl::HashPseudonym(std::string_view patient) const {
  return KeyedHash(*index_key, "patient:" + std::string(patient), 16);
}

void Store::Impl::ForgetDurableIndexes() {
  MutexLock lock(cache_mu);
  durable_aliases.clear();
}

std::string Store::Impl::HashLogicalId(std::string_view logical_id) const {
  return KeyedHash(*index_key, "record:" + std::string(logical_id), 16);
}

Status Store::CommitFormat() {
  if (impl_->format.load() >= internal::kStoreFormat) return OkStatus();
  // The marker is durable before the first newer envelope is written.
  EDS_RETURN_IF_ERROR(impl_->queue->Commit(
      {{WriteOp::Kind::kPut, Cf::kMeta, std::string(internal::kFormatKey),
        std::to_string(internal::kStoreFormat)}},
      {{"system", "store.format", "", std::to_string(internal::kStoreFormat)}}));
  impl_->codec->set_write_version(internal::kRecordFormatVersion);
  impl_->format = internal::kStoreFormat;
  return OkStatus();
}

Store::PreparedWrite::PreparedWrite() = default;
Store::PreparedWrite::~PreparedWrite() = default;
Store::PreparedWrite::PreparedWrite(PreparedWrite&&) noexcept = default;
Store::PreparedWrite& Store::PreparedWrite::operator=(PreparedWrite&&) noexcept = default;

Status Store::Write(const std::vector<RecordWrite>& records, const AuditEvent& event,
                    const std::vector<AliasWrite>& aliases, const std::vector<OutboxWrite>& outbox,
                    std::vector<bool>* stored_before) {
  EDS_ASSIGN_OR_RETURN(PreparedWrite write,
                       Prepare(records, event, aliases, outbox, stored_before));
  return Commit(std::move(write));
}

Result<Store::PreparedWrite> Store::Prepare(const std::vector<RecordWrite>& records,
                                            const AuditEvent& event,
                                            const std::vector<AliasWrite>& aliases,
                                            const std::vector<OutboxWrite>& outbox,
                                            std::vector<bool>* stored_before) {
  PreparedWrite write;
  write.parts_ = std::make_unique<PreparedWrite::Parts>();
  EDS_RETURN_IF_ERROR(
      impl_->PrepareRecords(records, event, aliases, outbox, stored_before, write.parts_.get()));
  return write;
}

Status Store::Commit(PreparedWrite write) {
  if (!write.parts_) return InvalidArgumentError("a prepared write commits once");
  return impl_->CommitPrepared(std::move(*write.parts_));
}

Status Store::Impl::PrepareRecords(const std::vector<RecordWrite>& records, const AuditEvent& event,
                                   const std::vector<AliasWrite>& aliases,
                                   const std::vector<OutboxWrite>& outbox,
                                   std::vector<bool>* stored_before, PreparedWrite::Parts* out) {
  std::vector<WriteOp>& ops = out->ops;
  ops.reserve(3 * records.size() + aliases.size() + outbox.size() + 2);
  EDS_RETURN_IF_ERROR(OutboxOps(outbox, &ops));
  auto& new_aliases = out->new_aliases;
  for (const auto& a : aliases) {
    if (a.alias.empty() || a.patient.empty()) return InvalidArgumentError("empty alias");
    std::string key = HashAlias(a.alias);
    {
      MutexLock lock(cache_mu);
      const auto known = durable_aliases.find(key);
      if (known != durable_aliases.end() && known->second == a.patient) continue;
    }
    std::string sealed = SealBlob(*alias_key, internal::AliasContext(key), a.patient);
    ops.push_back({WriteOp::Kind::kPut, Cf::kAliases, key, std::move(sealed)});
    new_aliases.emplace_back(std::move(key), a.patient);
  }
  std::vector<AuditEvent>& events = out->events;
  std::vector<std::pair<std::string, uint64_t>>& riding = out->riding;
  // Batches usually hold one patient's records: resolve each pseudonym once.
  const std::string* last_patient = nullptr;
  uint64_t no = 0;
  std::string no_bytes;
  // Each patient's records, a logical id once (its last version), placed after this loop; the
  // envelopes (compression and encryption: most of the work) are made after that.
  struct PatientRecords {
    uint64_t no = 0;
    size_t dek = 0;
    std::vector<PlacedRecord> records;
    std::unordered_map<std::string, size_t> index;  // hashed id -> position in records
  };
  std::vector<PatientRecords> by_patient;
  std::unordered_map<uint64_t, size_t> patient_index;
  size_t current = 0;
  std::vector<SealJob> jobs;
  std::deque<std::string> bodies;
  std::vector<KeyBytes> deks;
  std::vector<FactChange>& changes = out->changes;
  std::vector<std::string> record_keys;  // what this write replaces, for the block collector
  // A global id written twice in one write is filed once, its last version, whichever patients
  // the two name (one patient's versions collapse below anyway).
  std::unordered_map<std::string_view, size_t> last_global;  // logical id -> its last record
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].global_id) last_global[records[i].logical_id] = i;
  }
  std::vector<std::pair<size_t, size_t>> placed(records.size());  // -> (by_patient, position)
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordWrite& r = records[i];
    if (r.global_id && last_global[r.logical_id] != i) continue;
    if (r.logical_id.empty()) return InvalidArgumentError("record without a logical id");
    if (last_patient == nullptr || *last_patient != r.patient) {
      EDS_ASSIGN_OR_RETURN(no, ResolveForWrite(r.patient, &ops, &events, &riding));
      last_patient = &r.patient;
      no_bytes.clear();
      PutBigEndian64(no_bytes, no);
      const auto [at, fresh] = patient_index.emplace(no, by_patient.size());
      if (fresh) {
        KeyBytes dek;
        EDS_RETURN_IF_ERROR(DataKey(no, &dek));
        deks.push_back(dek);
        by_patient.push_back({no, deks.size() - 1, {}, {}});
      }
      current = at->second;
    }
    PatientRecords& p = by_patient[current];
    std::string hashed_id = HashLogicalId(r.logical_id);
    if (r.facts) {
      std::string key = internal::RecordKey(no, hashed_id);
      changes.push_back({FactChange::Kind::kPut, no, 0, hashed_id, *r.facts});
      if (r.facts->empty()) {
        ops.push_back({WriteOp::Kind::kDelete, Cf::kFacts, std::move(key), ""});
      } else {
        jobs.push_back({SealJob::Kind::kFacts, ops.size(), p.dek, &*r.facts});
        ops.push_back({WriteOp::Kind::kPut, Cf::kFacts, std::move(key), ""});
      }
    }
    if (no != 0) ops.push_back({WriteOp::Kind::kPut, Cf::kOwners, hashed_id, no_bytes});
    const auto [at, fresh] = p.index.emplace(hashed_id, p.records.size());
    placed[i] = {current, at->second};
    if (fresh) {
      // A global id's key is added after its owner look-up below.
      if (blocks_allowed() && !r.global_id) {
        record_keys.push_back(internal::RecordKey(no, hashed_id));
      }
      p.records.push_back({.hashed_id = std::move(hashed_id),
                           .payload = &r.payload,
                           .global_id = r.global_id,
                           .alone = r.alone});
    } else {
      p.records[at->second].payload = &r.payload;
      p.records[at->second].global_id = r.global_id;
      p.records[at->second].alone = r.alone;
    }
  }
  std::vector<std::pair<PlacedRecord*, uint64_t>> global;
  for (auto& p : by_patient) {
    for (auto& r : p.records) {
      if (r.global_id) global.emplace_back(&r, p.no);
    }
  }
  {
    std::vector<std::string> claimed;
    claimed.reserve(global.size());
    for (const auto& g : global) claimed.push_back(g.first->hashed_id);
    out->claim = id_claims.Claim(std::move(claimed));
  }
  EDS_RETURN_IF_ERROR(Refile(global, stored_before != nullptr, &ops, &changes, &record_keys));
  // Every record filed under a patient has an owner entry: a global id without one under this
  // patient has no record here to replace, so the collector's look-up is skipped (most of a
  // bulk load). Records under no patient have no owner entry and are looked up.
  for (const auto& [r, owner] : global) {
    if (blocks_allowed() && (owner == 0 || r->owned_here)) {
      record_keys.push_back(internal::RecordKey(owner, r->hashed_id));
    }
  }
  if (stored_before != nullptr) {
    stored_before->clear();
    for (size_t i = 0; i < records.size(); ++i) {
      const size_t filed = records[i].global_id ? last_global[records[i].logical_id] : i;
      const auto [patient, at] = placed[filed];
      stored_before->push_back(by_patient[patient].records[at].stored_before);
    }
  }
  for (const auto& p : by_patient) PlaceRecords(p.no, p.dek, p.records, &ops, &bodies, &jobs);
  EDS_ASSIGN_OR_RETURN(out->markers, MarkReplaced(record_keys, &ops));
  EDS_RETURN_IF_ERROR(Seal(ops, jobs, deks));
  AuditEvent ev = event;
  if (ev.object.empty()) ev.object = std::to_string(records.size()) + " records";
  events.push_back(std::move(ev));
  out->records = records.size();
  return OkStatus();
}

Status Store::Impl::CommitPrepared(PreparedWrite::Parts parts) {
  EDS_RETURN_IF_ERROR(
      queue->Commit(std::move(parts.ops), std::move(parts.events), std::move(parts.changes)));
  MarkDurable(parts.riding);
  {
    constexpr size_t kMaxCached = 1 << 18;
    MutexLock lock(cache_mu);
    if (durable_aliases.size() + parts.new_aliases.size() > kMaxCached) durable_aliases.clear();
    for (auto& [key, patient] : parts.new_aliases) {
      durable_aliases[std::move(key)] = std::move(patient);
    }
  }
  writes_since_check += parts.records;
  MaybeTrainDictionary();
  if (parts.markers > 0) MaybeCollect(parts.markers);
  return OkStatus();
}

Result<std::string> Store::Read(std::string_view patient, std::string_view logical_id,
                                const AuditEvent& event) {
  EDS_ASSIGN_OR_RETURN(uint64_t no, impl_->LookupPatient(patient));
  return impl_->ReadRecord(no, impl_->HashLogicalId(logical_id), event);
}

Result<std::string> Store::Impl::ReadRecord(uint64_t no, const std::string& hashed_id,
                                            const AuditEvent& event) {
  const std::string key = internal::RecordKey(no, hashed_id);
  // A record in a block is read from the same snapshot as its reference: the collector may
  // move it meanwhile.
  rocksdb::ManagedSnapshot snapshot(db.get());
  EDS_ASSIGN_OR_RETURN(auto value, Get(Cf::kRecords, key, snapshot.snapshot()));
  AuditEvent ev = event;
  ev.object = "patient " + std::to_string(no);
  EDS_RETURN_IF_ERROR(queue->Commit({}, {ev}));
  if (!value) return NotFoundError("no such record");
  KeyBytes dek;
  EDS_RETURN_IF_ERROR(DataKey(no, &dek));
  RecordOpener opener(*this, snapshot.snapshot());
  return opener.Open(key, *value, dek);
}

Result<bool> Store::Exists(std::string_view patient, std::string_view logical_id) {
  auto no = impl_->LookupPatient(patient);
  if (!no.ok()) {
    if (no.status().code() == StatusCode::kNotFound) return false;
    return no.status();
  }
  const std::string key = internal::RecordKey(*no, impl_->HashLogicalId(logical_id));
  std::string value;
  const rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(Cf::kRecords), key, &value);
  if (s.IsNotFound()) return false;
  EDS_RETURN_IF_ERROR(FromRocksStatus(s, "store read"));
  return true;
}

Status Store::Scan(const ScanFn& fn, const AuditEvent& event) {
  EDS_RETURN_IF_ERROR(impl_->queue->Commit({}, {event}));
  rocksdb::ManagedSnapshot snapshot(impl_->db.get());
  auto it = impl_->ScanIterator(Cf::kRecords, snapshot.snapshot());
  return impl_->DecryptAll(
      it.get(), Cf::kRecords, snapshot.snapshot(),
      [&](uint64_t no, std::string_view, std::string plain) { return fn(no, plain); });
}

std::unique_ptr<rocksdb::Iterator> Store::Impl::ScanIterator(Cf c,
                                                             const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  ro.snapshot = snapshot;
  return std::unique_ptr<rocksdb::Iterator>(db->NewIterator(ro, cf(c)));
}

Status Store::Impl::DecryptAll(rocksdb::Iterator* it, Cf c, const rocksdb::Snapshot* snapshot,
                               const DecryptFn& fn) {
  uint64_t current_no = UINT64_MAX;
  KeyBytes dek;
  RecordOpener opener(*this, snapshot);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k(it->key().data(), it->key().size());
    if (c == Cf::kRecords && k.size() == internal::kBlockKeySize) continue;  // read by reference
    if (k.size() != internal::kRecordKeySize) return DataLossError("record key of a wrong size");
    const uint64_t no = GetBigEndian64(k);
    if (no != current_no) {
      EDS_RETURN_IF_ERROR(DataKey(no, &dek));
      current_no = no;
    }
    const std::string_view v(it->value().data(), it->value().size());
    // Facts are authenticated with their own associated data (column_families.h).
    auto plain = c == Cf::kFacts ? codec->Decode(internal::FactsAssociatedData(k), v, dek)
                                 : opener.Open(k, v, dek);
    if (!plain.ok()) return plain.status();
    if (!fn(no, k, std::move(*plain))) return OkStatus();
  }
  return FromRocksStatus(it->status(), "scanning the store");
}

Result<RecordVerifyReport> Store::VerifyRecords() {
  RecordVerifyReport report;
  rocksdb::ManagedSnapshot snapshot(impl_->db.get());
  auto it = impl_->ScanIterator(Cf::kRecords, snapshot.snapshot());
  RecordOpener opener(*impl_, snapshot.snapshot());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view k(it->key().data(), it->key().size());
    const std::string_view v(it->value().data(), it->value().size());
    // Blocks are checked through the records that refer to them.
    if (k.size() == internal::kBlockKeySize) continue;
    ++report.records;
    if (k.size() != internal::kRecordKeySize) {
      ++report.failed;
      continue;
    }
    KeyBytes dek;
    if (!impl_->DataKey(GetBigEndian64(k), &dek).ok() || !opener.Open(k, v, dek).ok()) {
      ++report.failed;
    }
  }
  EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "verifying records"));
  return report;
}

std::string Store::Impl::HashAlias(std::string_view alias) const {
  return KeyedHash(*index_key, "alias:" + std::string(alias), 16);
}

Result<std::optional<std::string>> Store::ResolveAlias(std::string_view alias) {
  const std::string key = impl_->HashAlias(alias);
  EDS_ASSIGN_OR_RETURN(auto sealed, impl_->Get(Cf::kAliases, key));
  if (!sealed) return std::optional<std::string>();
  EDS_ASSIGN_OR_RETURN(std::string patient,
                       OpenBlob(*impl_->alias_key, internal::AliasContext(key), *sealed));
  return std::optional<std::string>(std::move(patient));
}

Result<SecretKey> Store::Impl::LoadOrCreateSecret(std::string_view name) {
  MutexLock lock(key_mu);
  EDS_ASSIGN_OR_RETURN(auto wrapped, Get(Cf::kKeys, name));
  if (wrapped) return ring->Unwrap(internal::SecretContext(name), *wrapped);
  SecretKey fresh = SecretKey::Random();
  EDS_RETURN_IF_ERROR(queue->Commit({{WriteOp::Kind::kPut, Cf::kKeys, std::string(name),
                                      ring->Wrap(internal::SecretContext(name), fresh)}},
                                    {{"system", "key.create", std::string(name), ""}}));
  return fresh;
}

Result<SecretKey> Store::Secret(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return InvalidArgumentError("a secret name is a non-empty word without '/'");
  }
  return impl_->LoadOrCreateSecret(internal::NamedSecretKey(name));
}

Status Store::Audit(const AuditEvent& event) { return impl_->queue->Commit({}, {event}); }

StoreStats Store::Stats() {
  StoreStats s;
  uint64_t v = 0;
  if (impl_->db->GetIntProperty(impl_->cf(Cf::kRecords), "rocksdb.estimate-num-keys", &v)) {
    s.records_estimate = v;
  }
  {
    MutexLock lock(impl_->key_mu);
    s.patients = impl_->next_patient_no - 1;
  }
  s.audit_entries = impl_->queue->audit_entries();
  s.dictionary_id = impl_->codec->current_dictionary();
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(impl_->options.data_dir, ec)) {
    if (e.is_regular_file(ec)) s.disk_bytes += e.file_size(ec);
  }
  return s;
}

int Store::format() const { return impl_->format.load(); }

std::string Store::MasterKeyId() const {
  MutexLock lock(impl_->key_mu);
  return HexEncode(impl_->ring->MasterKeyId());
}

const std::string& Store::data_dir() const { return impl_->options.data_dir; }

}  // namespace eds::storage
