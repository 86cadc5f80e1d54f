// Record blocks (store format 3): placing a write's records in blocks, sealing them, opening
// references, and collecting blocks whose records were replaced. docs/formats/record.md.
#include <rocksdb/db.h>
#include <sodium.h>

#include <algorithm>
#include <thread>

#include "common/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "storage/internal/column_families.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;

namespace {

// A scan keeps at most this many bytes of opened blocks (one patient's, usually far fewer).
constexpr size_t kMaxOpenedBytes = 64 << 20;
// Markers that start a background collection; fewer wait for more (or a restart).
constexpr uint64_t kCollectEvery = 1024;
// Markers handled in one exclusive turn of the write queue, which holds up writes meanwhile.
constexpr size_t kMarkersPerTurn = 256;

}  // namespace

RecordOpener::~RecordOpener() { Forget(); }

void RecordOpener::Forget() {
  for (auto& [id, block] : blocks_) sodium_memzero(block.plain.data(), block.plain.size());
  blocks_.clear();
  bytes_ = 0;
}

Result<std::string> RecordOpener::Open(std::string_view key, std::string_view value,
                                       const KeyBytes& dek) {
  EDS_ASSIGN_OR_RETURN(auto ref, internal::ParseRecordRef(value));
  if (!ref) return impl_.codec->Decode(key, value, dek);
  if (key.size() != internal::kRecordKeySize) return DataLossError("record key of a wrong size");
  const uint64_t no = GetBigEndian64(key);
  if (no != patient_ || bytes_ > kMaxOpenedBytes) {
    Forget();
    patient_ = no;
  }
  auto it = blocks_.find(ref->block_id);
  if (it == blocks_.end()) {
    const std::string block_key = internal::BlockKey(no, ref->block_id);
    EDS_ASSIGN_OR_RETURN(auto sealed, impl_.Get(Cf::kRecords, block_key, snapshot_));
    if (!sealed) return DataLossError("a record's block is missing");
    EDS_ASSIGN_OR_RETURN(
        std::string plain,
        impl_.codec->Decode(internal::BlockAssociatedData(block_key), *sealed, dek));
    it = blocks_.emplace(ref->block_id, Block{std::move(plain), {}}).first;
    auto slots = internal::ParseBlockBody(it->second.plain);
    if (!slots.ok()) {
      sodium_memzero(it->second.plain.data(), it->second.plain.size());
      blocks_.erase(it);
      return slots.status();
    }
    it->second.slots = std::move(*slots);
    bytes_ += it->second.plain.size();
  }
  const auto& slots = it->second.slots;
  if (ref->slot >= slots.size() || slots[ref->slot].hashed_id != key.substr(8)) {
    return DataLossError("a record's reference does not match its block");
  }
  return std::string(slots[ref->slot].payload);
}

void Store::Impl::PlaceRecords(uint64_t no, size_t dek, const std::vector<PlacedRecord>& records,
                               std::vector<WriteOp>* ops, std::deque<std::string>* bodies,
                               std::vector<SealJob>* jobs) {
  auto alone = [&](const PlacedRecord& r) {
    jobs->push_back({SealJob::Kind::kRecord, ops->size(), dek, r.payload});
    ops->push_back({WriteOp::Kind::kPut, Cf::kRecords, internal::RecordKey(no, r.hashed_id), ""});
  };
  std::vector<const PlacedRecord*> blockable;
  for (const auto& r : records) {
    if (!blocks_allowed() || records.size() < 2 || r.alone ||
        r.payload->size() > internal::kBlockMaxRecordBytes) {
      alone(r);
    } else {
      blockable.push_back(&r);
    }
  }
  // Blocks of even sizes: 65 records make blocks of 33 and 32, not 64 and 1.
  const size_t blocks =
      (blockable.size() + internal::kBlockMaxRecords - 1) / internal::kBlockMaxRecords;
  const size_t per_block = blocks == 0 ? 0 : (blockable.size() + blocks - 1) / blocks;
  for (size_t i = 0; i < blockable.size();) {
    size_t j = i;
    size_t bytes = 0;
    while (j < blockable.size() && j - i < per_block &&
           (j == i || bytes + blockable[j]->payload->size() <= internal::kBlockMaxBytes)) {
      bytes += blockable[j]->payload->size();
      ++j;
    }
    if (j - i == 1) {
      alone(*blockable[i]);
      i = j;
      continue;
    }
    std::string id(internal::kBlockIdSize, '\0');
    randombytes_buf(id.data(), id.size());
    std::vector<internal::BlockSlot> slots;
    slots.reserve(j - i);
    for (size_t k = i; k < j; ++k) {
      slots.push_back({blockable[k]->hashed_id, *blockable[k]->payload});
      ops->push_back({WriteOp::Kind::kPut, Cf::kRecords,
                      internal::RecordKey(no, blockable[k]->hashed_id),
                      internal::EncodeRecordRef(id, static_cast<uint8_t>(k - i))});
    }
    bodies->push_back(internal::EncodeBlockBody(slots));
    jobs->push_back({SealJob::Kind::kBlock, ops->size(), dek, &bodies->back()});
    ops->push_back({WriteOp::Kind::kPut, Cf::kRecords, internal::BlockKey(no, id), ""});
    i = j;
  }
}

Status Store::Impl::Seal(std::vector<WriteOp>& ops, const std::vector<SealJob>& jobs,
                         const std::vector<KeyBytes>& deks) {
  Status status[2];
  auto seal = [&](size_t from, size_t to, Status* out) {
    for (size_t i = from; i < to; ++i) {
      const SealJob& job = jobs[i];
      WriteOp& op = ops[job.op];
      const std::string ad =
          job.kind == SealJob::Kind::kFacts   ? internal::FactsAssociatedData(op.key)
          : job.kind == SealJob::Kind::kBlock ? internal::BlockAssociatedData(op.key)
                                              : op.key;
      auto envelope = codec->Encode(ad, *job.plaintext, deks[job.dek]);
      if (!envelope.ok()) {
        *out = envelope.status();
        return;
      }
      op.value = std::move(*envelope);
    }
  };
  // Below this many plaintext bytes a thread costs more than it saves.
  constexpr size_t kParallelFromBytes = 256 * 1024;
  size_t bytes = 0;
  for (const auto& job : jobs) bytes += job.plaintext->size();
  if (bytes >= kParallelFromBytes && jobs.size() >= 2) {
    // Halves by bytes, not by count: one block weighs as much as many facts.
    size_t half = 0;
    for (size_t acc = 0; half < jobs.size() && acc < bytes / 2; ++half) {
      acc += jobs[half].plaintext->size();
    }
    std::thread other(seal, half, jobs.size(), &status[1]);
    seal(0, half, &status[0]);
    other.join();
  } else {
    seal(0, jobs.size(), &status[0]);
  }
  for (const Status& s : status) EDS_RETURN_IF_ERROR(s);
  return OkStatus();
}

Result<uint64_t> Store::Impl::MarkReplaced(const std::vector<std::string>& keys,
                                           std::vector<WriteOp>* ops) {
  // Only a store of format 3 holds references.
  if (!blocks_allowed() || keys.empty()) return uint64_t{0};
  std::vector<rocksdb::PinnableSlice> values;
  EDS_ASSIGN_OR_RETURN(const std::vector<bool> found,
                       MultiGet(Cf::kRecords, {keys.begin(), keys.end()}, &values));
  uint64_t markers = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!found[i]) continue;
    auto ref = internal::ParseRecordRef(std::string_view(values[i].data(), values[i].size()));
    if (!ref.ok() || !*ref) continue;  // an envelope goes with its key; a broken reference too
    ops->push_back({WriteOp::Kind::kPut, Cf::kMeta,
                    std::string(internal::kGcPrefix) +
                        internal::BlockKey(GetBigEndian64(keys[i]), (*ref)->block_id),
                    ""});
    ++markers;
  }
  return markers;
}

Result<BlockCollectReport> Store::Impl::CollectBlocks() {
  BlockCollectReport report;
  for (bool more = true; more && !closing.load();) {
    more = false;
    BlockCollectReport turn;
    const Status status = queue->CommitExclusive([&](std::vector<WriteOp>* ops,
                                                     std::vector<AuditEvent>* events) -> Status {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(Cf::kMeta)));
      size_t taken = 0;
      for (it->Seek(internal::kGcPrefix); it->Valid() && it->key().starts_with(internal::kGcPrefix);
           it->Next()) {
        if (taken++ == kMarkersPerTurn) {
          more = true;
          break;
        }
        const std::string marker = it->key().ToString();
        ops->push_back({WriteOp::Kind::kDelete, Cf::kMeta, marker, ""});
        ++turn.markers;
        const std::string block_key = marker.substr(internal::kGcPrefix.size());
        if (block_key.size() != internal::kBlockKeySize) continue;
        // Gone: collected already, or its patient erased or merged.
        EDS_ASSIGN_OR_RETURN(auto sealed, Get(Cf::kRecords, block_key));
        if (!sealed) continue;
        const uint64_t no = GetBigEndian64(block_key);
        KeyBytes dek;
        EDS_RETURN_IF_ERROR(DataKey(no, &dek));
        const std::string ad = internal::BlockAssociatedData(block_key);
        EDS_ASSIGN_OR_RETURN(std::string plain, codec->Decode(ad, *sealed, dek));
        auto slots = internal::ParseBlockBody(plain);
        if (!slots.ok()) {
          sodium_memzero(plain.data(), plain.size());
          return slots.status();
        }
        // A slot is current while its record key refers to it. Writers only ever refer to the
        // blocks they write, so a slot found replaced stays so.
        const std::string_view block_id = std::string_view(block_key).substr(8);
        static const std::string kBlank(16, '\0');
        size_t current = 0;
        for (size_t i = 0; i < slots->size(); ++i) {
          auto& slot = (*slots)[i];
          EDS_ASSIGN_OR_RETURN(auto value,
                               Get(Cf::kRecords, internal::RecordKey(no, slot.hashed_id)));
          if (value && *value == internal::EncodeRecordRef(block_id, static_cast<uint8_t>(i))) {
            ++current;
          } else {
            slot = {kBlank, {}};
          }
        }
        if (current * 2 > slots->size()) {  // mostly current: it stays as it is
          sodium_memzero(plain.data(), plain.size());
          continue;
        }
        if (current == 0) {
          ops->push_back({WriteOp::Kind::kDelete, Cf::kRecords, block_key, ""});
          ++turn.blocks_deleted;
        } else {
          // Rewritten in place, replaced slots blanked: references keep their block and slot,
          // so a write racing with this one cannot be pointed at a stale copy.
          std::string body = internal::EncodeBlockBody(*slots);
          auto resealed = codec->Encode(ad, body, dek);
          sodium_memzero(body.data(), body.size());
          if (!resealed.ok()) {
            sodium_memzero(plain.data(), plain.size());
            return resealed.status();
          }
          ops->push_back({WriteOp::Kind::kPut, Cf::kRecords, block_key, std::move(*resealed)});
          ++turn.blocks_rewritten;
          turn.records_kept += current;
        }
        sodium_memzero(plain.data(), plain.size());
      }
      EDS_RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading collector markers"));
      if (turn.blocks_deleted + turn.blocks_rewritten > 0) {
        events->push_back({"system", "store.collect",
                           std::to_string(turn.blocks_deleted) + " blocks deleted, " +
                               std::to_string(turn.blocks_rewritten) + " rewritten",
                           std::to_string(turn.records_kept) + " records kept"});
      }
      return OkStatus();
    });
    EDS_RETURN_IF_ERROR(status);
    report.markers += turn.markers;
    report.blocks_deleted += turn.blocks_deleted;
    report.blocks_rewritten += turn.blocks_rewritten;
    report.records_kept += turn.records_kept;
  }
  return report;
}

Status Store::Impl::CountCollectorMarkers() {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(Cf::kMeta)));
  uint64_t markers = 0;
  for (it->Seek(internal::kGcPrefix); it->Valid() && it->key().starts_with(internal::kGcPrefix);
       it->Next()) {
    ++markers;
  }
  gc_waiting = markers;
  return FromRocksStatus(it->status(), "reading collector markers");
}

void Store::Impl::MaybeCollect(uint64_t new_markers) {
  if (gc_waiting.fetch_add(new_markers) + new_markers < kCollectEvery) return;
  if (collecting.exchange(true)) return;
  if (collector.joinable()) collector.join();
  gc_waiting = 0;
  collector = std::thread([this] {
    auto report = CollectBlocks();
    if (!report.ok()) {
      LogWarning("record block collection failed", {{"EDS_ERROR", report.status().ToString()}});
    }
    collecting = false;
  });
}

Result<BlockCollectReport> Store::CollectBlocks() { return impl_->CollectBlocks(); }

}  // namespace eds::storage
