// WriteQueue: the store's single write path. Callers submit operations plus audit events; the
// first waiting caller becomes the leader, merges every queued submission into one RocksDB
// WriteBatch, appends the audit entries to the hash chain in queue order, and commits with one
// fsync for the whole group (LevelDB's group commit). Thread-safe.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <string>
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

  // Called by the leader after each durable group, with the group's fact changes in commit
  // order, before any later group commits. Set once, before the first commit.
  using CommitHook = std::function<void(const std::vector<FactChange>&)>;
  void set_commit_hook(CommitHook hook) { hook_ = std::move(hook); }

  // Commits `ops` and one audit entry per event atomically; durable (synced) when OK. `changes`
  // go to the commit hook once durable.
  Status Commit(std::vector<WriteOp> ops, std::vector<AuditEvent> events,
                std::vector<FactChange> changes = {});
  // Runs `fn` between two commits: every commit queued before has been made, none after starts
  // until it returns.
  void RunExclusive(const std::function<void()>& fn);

  // Builds and commits a write between two commits: `build` runs when every commit queued before
  // has been made and none after can start, so what it reads stays true until its ops are
  // durable. Nothing is written when it fails or adds nothing.
  using BuildFn = std::function<Status(std::vector<WriteOp>* ops, std::vector<AuditEvent>* events)>;
  Status CommitExclusive(const BuildFn& build);

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
    Status status;
    bool done = false;
    // Each waiter sleeps on its own: a finished group wakes its members and the next leader
    // only, not every writer queued behind them.
    std::condition_variable cv;
  };

  // Writes the group's ops and audit entries in one synced batch, continuing the chain from
  // (*seq, *head), which it advances; runs the commit hook once durable. Leader only.
  Status WriteGroup(const std::vector<Writer*>& group, uint64_t* seq, std::string* head);
  // Wakes the writer now at the front, if any (it leads next).
  void WakeFront() EDS_REQUIRES(mu_);

  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  const AuditChain* chain_;
  Clock& clock_;
  CommitHook hook_;

  std::atomic<bool> failed_{false};
  Mutex mu_;
  std::deque<Writer*> queue_ EDS_GUARDED_BY(mu_);
  // Chain state: touched only by the current leader, read under mu_ for stats.
  uint64_t next_seq_ EDS_GUARDED_BY(mu_);
  std::string head_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::storage::internal
