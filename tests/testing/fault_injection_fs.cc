#include "tests/testing/fault_injection_fs.h"

namespace eds::testing {
namespace {

class FailingFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FailingFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<std::atomic<bool>> fail)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fail_(std::move(fail)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return NoSpace();
    return FSWritableFileOwnerWrapper::Append(d, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (*fail_) return NoSpace();
    return FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
  }
  // Sync is left alone: RocksDB asserts on a sync failing after a failed append, and a full
  // disk shows up at append time.

 private:
  static rocksdb::IOStatus NoSpace() {
    return rocksdb::IOStatus::NoSpace("injected: no space left on device");
  }
  std::shared_ptr<std::atomic<bool>> fail_;
};

}  // namespace

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(const std::string& f,
                                                    const rocksdb::FileOptions& o,
                                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                    rocksdb::IODebugContext* dbg) {
  if (*fail_) return rocksdb::IOStatus::NoSpace("injected: no space left on device");
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
  if (s.ok()) *r = std::make_unique<FailingFile>(std::move(file), fail_);
  return s;
}

}  // namespace eds::testing
