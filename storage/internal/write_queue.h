// WriteQueue: the store's single write path. Callers submit operations plus audit events; the
// first waiting caller becomes the leader, merges every queued submission into one RocksDB
// WriteBatch, appends the audit entries to the hash chain in queue order, and writes it (LevelDB's
// group commit). The log is synced apart from the write: while one thread waits for the disk,
// the next group is already being written, and one sync covers every group written before it.
// A caller returns once its group is durable. Thread-safe.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "storage/audit_log.h"
#include "storage/fact_observer.h"
#include "storage/internal/column_families.h"

namespace eds::storage::internal {

struct WriteOp {
  enum class Kind { kPut, kDelete, kDeleteRange };
  Kind kind = Kind::kPut;
  Cf cf = Cf::kRecords;
  std::string key;
  std::string value;  // the end key for kDeleteRange
};

class WriteQueue {
 public:
  // `db`, `handles` and `chain` must outlive the queue. `next_seq`/`head` continue the chain.
  WriteQueue(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
             const AuditChain* chain, Clock& clock, uint64_t next_seq, std::string head);

  // Called once per group when it is durable, with the group's fact changes, in commit order
  // (later groups may be written, not yet durable, meanwhile). Set once, before the first commit.
  using CommitHook = std::function<void(const std::vector<FactChange>&)>;
  void set_commit_hook(CommitHook hook) { hook_ = std::move(hook); }

  // Commits `ops` and one audit entry per event atomically; durable (synced) when OK. `changes`
  // go to the commit hook once durable.
  Status Commit(std::vector<WriteOp> ops, std::vector<AuditEvent> events,
                std::vector<FactChange> changes = {});
  // Runs `fn` between two commits: every commit queued before is durable (its changes handed to
  // the hook), none after starts until it returns.
  void RunExclusive(const std::function<void()>& fn);

  // Builds and commits a write between two commits: `build` runs when every commit queued before
  // is durable and none after can start, so what it reads stays true until its ops are durable.
  // Nothing is written when it fails or adds nothing.
  using BuildFn = std::function<Status(std::vector<WriteOp>* ops, std::vector<AuditEvent>* events)>;
  Status CommitExclusive(const BuildFn& build);

  // Returns once every commit written before the call is durable. Written data is visible to
  // reads a moment before it is synced: a caller that answers from what it read (a resend found
  // already stored, say) waits here first, so it never vouches for data a crash could still take.
  Status AwaitDurable();

  // Number of audit entries written so far.
  uint64_t audit_entries();
  // True once any commit failed (RocksDB then refuses further writes until reopened).
  bool failed() const { return failed_.load(); }

 private:
  struct Writer {
    std::vector<WriteOp> ops;
    std::vector<AuditEvent> events;
    std::vector<FactChange> changes;
    bool exclusive = false;  // alone between two commits: no group takes it along
    Status status;           // of the group's write
    bool written = false;    // the group was written (or failed to be)
    uint64_t group = 0;      // the group's number, in write order
  };

  // Writes the group's ops and audit entries in one batch, synced when `sync`, continuing the
  // chain from (*seq, *head), which it advances. Leader only.
  Status WriteGroup(const std::vector<Writer*>& group, bool sync, uint64_t* seq, std::string* head);
  // Marks `group` (written with `status`) as group number written_ + 1, keeps its changes for the
  // hook, takes it off the queue and wakes the others.
  void FinishWrite(const std::vector<Writer*>& group, const Status& status) EDS_REQUIRES(mu_);
  // Waits until groups up to `group` are durable, syncing the log itself when no thread is.
  Status WaitDurable(MutexLock& lock, uint64_t group) EDS_REQUIRES(mu_);

  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  const AuditChain* chain_;
  Clock& clock_;
  CommitHook hook_;

  std::atomic<bool> failed_{false};
  Mutex mu_;
  std::condition_variable cv_;
  std::deque<Writer*> queue_ EDS_GUARDED_BY(mu_);
  // Chain state: touched only by the current leader, read under mu_ for stats.
  uint64_t next_seq_ EDS_GUARDED_BY(mu_);
  std::string head_ EDS_GUARDED_BY(mu_);
  // Groups are numbered in write order; those up to durable_ are synced and handed to the hook.
  uint64_t written_ EDS_GUARDED_BY(mu_) = 0;
  uint64_t durable_ EDS_GUARDED_BY(mu_) = 0;
  bool syncing_ EDS_GUARDED_BY(mu_) = false;
  // Set by a failed sync: the groups it covered, and every later one, fail with it.
  Status sync_error_ EDS_GUARDED_BY(mu_);
  std::deque<std::pair<uint64_t, std::vector<FactChange>>> unsynced_changes_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::storage::internal
