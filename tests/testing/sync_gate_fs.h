// SyncGateFs: wraps RocksDB's real file system and takes control of the write-ahead log's syncs:
// they can be held back (a slow disk), made to fail, and counted. It remembers how much of each
// log was synced, so a test can copy a store as a power cut would leave it: logs cut to what was
// synced, everything else whole.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace eds::testing {

class SyncGateFs : public rocksdb::FileSystemWrapper {
 public:
  SyncGateFs();
  const char* Name() const override { return "SyncGateFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;

  // While held, log syncs wait (at most `kHoldLimit`, then fail); Release lets them through.
  void Hold();
  void Release();
  // Log syncs fail with an I/O error from now on.
  void FailSyncs();
  // Log syncs that completed, and those waiting at the gate now.
  int syncs() const;
  int waiting() const;

  // Copies every file of `from` into `to` (a new folder) as a power cut would leave them: each
  // log cut to its synced length.
  void CopyAsAfterPowerCut(const std::string& from, const std::string& to) const;

  static std::unique_ptr<rocksdb::Env> MakeEnv(const std::shared_ptr<SyncGateFs>& fs) {
    return rocksdb::NewCompositeEnv(fs);
  }

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace eds::testing
