#include "tests/testing/sync_gate_fs.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

namespace eds::testing {

// A held sync gives up after this long, so a test that forgets to release cannot hang.
constexpr std::chrono::seconds kHoldLimit{60};

struct SyncGateFs::Shared {
  mutable std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  bool fail = false;
  int syncs = 0;
  int waiting = 0;
  std::map<std::string, uint64_t> synced;  // log path -> bytes synced
};

namespace {

bool IsLog(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".log") == 0;
}

class GatedLog : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  GatedLog(std::unique_ptr<rocksdb::FSWritableFile> f, std::string path,
           std::shared_ptr<SyncGateFs::Shared> shared)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(f)),
        path_(std::move(path)),
        shared_(std::move(shared)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    appended_ += d.size();
    return FSWritableFileOwnerWrapper::Append(d, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    appended_ += d.size();
    return FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Gate([&] { return FSWritableFileOwnerWrapper::Sync(o, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Gate([&] { return FSWritableFileOwnerWrapper::Fsync(o, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();  // a partial sync promises nothing; only full syncs count
  }

 private:
  template <typename SyncFn>
  rocksdb::IOStatus Gate(SyncFn sync) {
    // What was appended before the sync started is what it makes durable.
    const uint64_t covered = appended_;
    {
      std::unique_lock<std::mutex> lock(shared_->mu);
      ++shared_->waiting;
      const bool opened =
          shared_->cv.wait_for(lock, kHoldLimit, [&] { return !shared_->held || shared_->fail; });
      --shared_->waiting;
      if (!opened || shared_->fail) return rocksdb::IOStatus::IOError("injected: sync failed");
    }
    rocksdb::IOStatus s = sync();
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(shared_->mu);
      ++shared_->syncs;
      uint64_t& synced = shared_->synced[path_];
      if (covered > synced) synced = covered;
    }
    return s;
  }

  std::string path_;
  std::shared_ptr<SyncGateFs::Shared> shared_;
  uint64_t appended_ = 0;  // appends and syncs of one file come from one writer at a time
};

}  // namespace

SyncGateFs::SyncGateFs()
    : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()),
      shared_(std::make_shared<Shared>()) {}

rocksdb::IOStatus SyncGateFs::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                                              rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(f, o, &file, dbg);
  if (!s.ok()) return s;
  if (IsLog(f)) {
    const std::string path = std::filesystem::path(f).lexically_normal().string();
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->synced[path] = 0;
    }
    *r = std::make_unique<GatedLog>(std::move(file), path, shared_);
  } else {
    *r = std::move(file);
  }
  return s;
}

void SyncGateFs::Hold() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->held = true;
}

void SyncGateFs::Release() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->held = false;
  }
  shared_->cv.notify_all();
}

void SyncGateFs::FailSyncs() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->fail = true;
  }
  shared_->cv.notify_all();
}

int SyncGateFs::syncs() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->syncs;
}

int SyncGateFs::waiting() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->waiting;
}

void SyncGateFs::CopyAsAfterPowerCut(const std::string& from, const std::string& to) const {
  namespace fs = std::filesystem;
  fs::create_directories(to);
  std::lock_guard<std::mutex> lock(shared_->mu);
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().lexically_normal().string();
    const fs::path target = fs::path(to) / entry.path().filename();
    const auto log = shared_->synced.find(path);
    if (log == shared_->synced.end()) {
      fs::copy_file(entry.path(), target);
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<char> bytes(log->second);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream out(target, std::ios::binary);
    out.write(bytes.data(), in.gcount());
  }
}

}  // namespace eds::testing
