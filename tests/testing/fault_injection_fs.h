// FaultInjectionFs: wraps RocksDB's real file system and, when armed, fails every write and sync
// of new and open writable files with ENOSPC, as a full disk would.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace eds::testing {

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultInjectionFs"; }

  void FailWrites(bool fail) { fail_->store(fail); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;

  // An Env over this file system, for StoreOptions/OpenStoreWithEnv; the Env keeps `fs` alive.
  static std::unique_ptr<rocksdb::Env> MakeEnv(const std::shared_ptr<FaultInjectionFs>& fs) {
    return rocksdb::NewCompositeEnv(fs);
  }

 private:
  std::shared_ptr<std::atomic<bool>> fail_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace eds::testing
