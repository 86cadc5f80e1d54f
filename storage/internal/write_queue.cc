#include "storage/internal/write_queue.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <iterator>

#include "common/encoding.h"

namespace eds::storage::internal {
namespace {

// A group is capped so one leader does not hold followers hostage with a huge batch.
constexpr size_t kMaxGroupBytes = 8 * 1024 * 1024;

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return OkStatus();
  if (s.IsNoSpace()) return ResourceExhaustedError("store write failed: no space left on device");
  if (s.IsIOError()) return UnavailableError("store write failed: " + s.ToString());
  return InternalError("store write failed: " + s.ToString());
}

// RocksDB's memtable inserts a batch's keys one by one into a skip list; keys in ascending order
// reuse the previous insert's position instead of searching from the top, which makes the
// leader's serial part of a commit several times cheaper for big batches. The order of two
// writes of the same key is kept (stable); a batch with a range deletion keeps its order, since
// a range can cover keys it was written before or after.
void SortForMemtable(std::vector<WriteOp>& ops) {
  for (const auto& op : ops) {
    if (op.kind == WriteOp::Kind::kDeleteRange) return;
  }
  std::stable_sort(ops.begin(), ops.end(), [](const WriteOp& a, const WriteOp& b) {
    if (a.cf != b.cf) return a.cf < b.cf;
    return a.key < b.key;
  });
}

}  // namespace

WriteQueue::WriteQueue(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                       const AuditChain* chain, Clock& clock, uint64_t next_seq, std::string head)
    : db_(db),
      handles_(handles),
      chain_(chain),
      clock_(clock),
      next_seq_(next_seq),
      head_(std::move(head)) {}

uint64_t WriteQueue::audit_entries() {
  MutexLock lock(mu_);
  return next_seq_ - 1;
}

void WriteQueue::RunExclusive(const std::function<void()>& fn) {
  Writer w;
  w.exclusive = true;
  MutexLock lock(mu_);
  queue_.push_back(&w);
  lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return queue_.front() == &w; });
  // After a failed sync nothing more becomes durable; `fn` (an observer leaving, say) still runs.
  WaitDurable(lock, written_).IgnoreError();
  mu_.Unlock();
  fn();
  mu_.Lock();
  queue_.pop_front();
  cv_.notify_all();
}

Status WriteQueue::CommitExclusive(const BuildFn& build) {
  Writer w;
  w.exclusive = true;
  MutexLock lock(mu_);
  queue_.push_back(&w);
  lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return queue_.front() == &w; });
  // What `build` reads, and what the hook's observers were handed, is then exactly what a crash
  // would keep.
  Status status = WaitDurable(lock, written_);
  uint64_t seq = next_seq_;
  std::string head = head_;
  bool wrote = false;
  if (status.ok()) {
    mu_.Unlock();
    status = build(&w.ops, &w.events);
    if (status.ok() && (!w.ops.empty() || !w.events.empty())) {
      SortForMemtable(w.ops);
      // Synced in the write itself: nothing else is in flight to share the sync with.
      status = WriteGroup({&w}, /*sync=*/true, &seq, &head);
      wrote = status.ok();
    }
    mu_.Lock();
  }
  if (wrote) {
    next_seq_ = seq;
    head_ = head;
    durable_ = ++written_;
  }
  queue_.pop_front();
  cv_.notify_all();
  return status;
}

Status WriteQueue::AwaitDurable() {
  MutexLock lock(mu_);
  return WaitDurable(lock, written_);
}

Status WriteQueue::WriteGroup(const std::vector<Writer*>& group, bool sync, uint64_t* seq_io,
                              std::string* head_io) {
  rocksdb::WriteBatch batch;
  const int64_t now_ms = UnixMillis(clock_.Now());
  uint64_t seq = *seq_io;
  std::string head = *head_io;
  rocksdb::Status rs;
  for (Writer* q : group) {
    if (!rs.ok()) break;
    for (const auto& op : q->ops) {
      auto* cf = handles_[static_cast<size_t>(op.cf)];
      switch (op.kind) {
        case WriteOp::Kind::kPut:
          rs = batch.Put(cf, op.key, op.value);
          break;
        case WriteOp::Kind::kDelete:
          rs = batch.Delete(cf, op.key);
          break;
        case WriteOp::Kind::kDeleteRange:
          rs = batch.DeleteRange(cf, op.key, op.value);
          break;
      }
      if (!rs.ok()) break;
    }
    for (const auto& ev : q->events) {
      if (!rs.ok()) break;
      std::string hash;
      const std::string value = chain_->Seal(seq, now_ms, ev, head, &hash);
      rs = batch.Put(handles_[static_cast<size_t>(Cf::kAudit)], AuditKey(seq), value);
      head = hash;
      ++seq;
    }
  }
  if (rs.ok() && seq != *seq_io) {
    std::string head_value;
    PutBigEndian64(head_value, seq - 1);
    head_value += head;
    rs =
        batch.Put(handles_[static_cast<size_t>(Cf::kMeta)], std::string(kAuditHeadKey), head_value);
  }
  if (rs.ok()) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rs = db_->Write(wo, &batch);
  }
  const Status status = FromRocks(rs);
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  *seq_io = seq;
  *head_io = std::move(head);
  return status;
}

void WriteQueue::FinishWrite(const std::vector<Writer*>& group, const Status& status) {
  uint64_t number = 0;
  if (status.ok()) {
    number = ++written_;
    std::vector<FactChange> changes;
    for (Writer* q : group) {
      changes.insert(changes.end(), std::make_move_iterator(q->changes.begin()),
                     std::make_move_iterator(q->changes.end()));
    }
    if (!changes.empty()) unsynced_changes_.emplace_back(number, std::move(changes));
  }
  for (Writer* q : group) {
    queue_.pop_front();
    q->status = status;
    q->group = number;
    q->written = true;
  }
  cv_.notify_all();
}

Status WriteQueue::WaitDurable(MutexLock& lock, uint64_t group) {
  for (;;) {
    if (durable_ >= group) return OkStatus();
    if (!sync_error_.ok()) return sync_error_;
    if (syncing_) {
      lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return !syncing_; });
      continue;
    }
    // No thread is syncing: this one syncs every group written so far, then hands their fact
    // changes to the hook, in order (syncing_ keeps a second syncer out until it is done).
    syncing_ = true;
    const uint64_t target = written_;
    std::vector<std::vector<FactChange>> changes;
    while (!unsynced_changes_.empty() && unsynced_changes_.front().first <= target) {
      changes.push_back(std::move(unsynced_changes_.front().second));
      unsynced_changes_.pop_front();
    }
    mu_.Unlock();
    const Status status = FromRocks(db_->SyncWAL());
    if (status.ok() && hook_) {
      for (const auto& c : changes) hook_(c);
    }
    mu_.Lock();
    syncing_ = false;
    if (status.ok()) {
      durable_ = target;
    } else {
      failed_ = true;
      sync_error_ = status;
    }
    cv_.notify_all();
  }
}

Status WriteQueue::Commit(std::vector<WriteOp> ops, std::vector<AuditEvent> events,
                          std::vector<FactChange> changes) {
  SortForMemtable(ops);
  Writer w;
  w.ops = std::move(ops);
  w.events = std::move(events);
  w.changes = std::move(changes);

  MutexLock lock(mu_);
  // After a failed sync nothing written since is known to be durable: refuse rather than build
  // on it.
  if (!sync_error_.ok()) return sync_error_;
  queue_.push_back(&w);
  lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return w.written || queue_.front() == &w; });
  if (!w.written) {
    // Leader: take a group from the front of the queue, up to an exclusive runner.
    std::vector<Writer*> group;
    size_t bytes = 0;
    for (Writer* q : queue_) {
      if (q->exclusive) break;
      size_t size = 0;
      for (const auto& op : q->ops) size += op.key.size() + op.value.size();
      if (!group.empty() && bytes + size > kMaxGroupBytes) break;
      group.push_back(q);
      bytes += size;
    }
    uint64_t seq = next_seq_;
    std::string head = head_;

    // The batch is built and written without the lock, so others can queue meanwhile; only the
    // leader touches the chain state until it hands over. The write is not synced here: the
    // next leader may write its group while this one waits for the disk below.
    mu_.Unlock();
    const Status status = WriteGroup(group, /*sync=*/false, &seq, &head);
    mu_.Lock();
    if (status.ok()) {
      next_seq_ = seq;
      head_ = head;
    }
    FinishWrite(group, status);
  }
  if (!w.status.ok()) return w.status;
  return WaitDurable(lock, w.group);
}

}  // namespace eds::storage::internal
