#include "storage/internal/write_queue.h"

#include <rocksdb/write_batch.h>

#include <algorithm>

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
  CommitExclusive([&fn](std::vector<WriteOp>*, std::vector<AuditEvent>*) {
    fn();
    return OkStatus();
  }).IgnoreError();
}

Status WriteQueue::CommitExclusive(const BuildFn& build) {
  Writer w;
  w.exclusive = true;
  MutexLock lock(mu_);
  queue_.push_back(&w);
  lock.Wait(w.cv, [&]() EDS_REQUIRES(mu_) { return queue_.front() == &w; });
  uint64_t seq = next_seq_;
  std::string head = head_;
  mu_.Unlock();
  Status status = build(&w.ops, &w.events);
  if (status.ok() && (!w.ops.empty() || !w.events.empty())) {
    SortForMemtable(w.ops);
    status = WriteGroup({&w}, &seq, &head);
  }
  mu_.Lock();
  if (status.ok()) {
    next_seq_ = seq;
    head_ = head;
  }
  queue_.pop_front();
  WakeFront();
  return status;
}

void WriteQueue::WakeFront() {
  if (!queue_.empty()) queue_.front()->cv.notify_one();
}

Status WriteQueue::WriteGroup(const std::vector<Writer*>& group, uint64_t* seq_io,
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
    wo.sync = true;
    rs = db_->Write(wo, &batch);
  }
  const Status status = FromRocks(rs);
  if (!status.ok()) {
    failed_ = true;
    return status;
  }
  if (hook_) {
    for (Writer* q : group) {
      if (!q->changes.empty()) hook_(q->changes);
    }
  }
  *seq_io = seq;
  *head_io = std::move(head);
  return status;
}

Status WriteQueue::Commit(std::vector<WriteOp> ops, std::vector<AuditEvent> events,
                          std::vector<FactChange> changes) {
  SortForMemtable(ops);
  Writer w;
  w.ops = std::move(ops);
  w.events = std::move(events);
  w.changes = std::move(changes);

  MutexLock lock(mu_);
  queue_.push_back(&w);
  lock.Wait(w.cv, [&]() EDS_REQUIRES(mu_) { return w.done || queue_.front() == &w; });
  if (w.done) return w.status;

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
  // leader touches the chain state until it hands over.
  mu_.Unlock();
  const Status status = WriteGroup(group, &seq, &head);
  mu_.Lock();

  if (status.ok()) {
    next_seq_ = seq;
    head_ = head;
  }
  // Notified under the lock: a member returns, and its Writer goes, as soon as it can take it.
  for (Writer* q : group) {
    queue_.pop_front();
    if (q != &w) {
      q->status = status;
      q->done = true;
      q->cv.notify_one();
    }
  }
  WakeFront();
  return status;
}

}  // namespace eds::storage::internal
