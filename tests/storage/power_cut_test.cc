// Acknowledged means durable, through a power cut too (the SIGKILL tests keep the page cache): a
// write returns only once its log is synced, a cut loses only what was never acknowledged and
// leaves the audit chain whole, and writers queued behind a sync share the next one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "storage/internal/open_store.h"
#include "tests/storage/store_fixture.h"
#include "tests/testing/sync_gate_fs.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::SyncGateFs;

// Polls `done` for up to 20 s.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class PowerCutTest : public StoreTest {
 protected:
  void SetUp() override {
    env_ = SyncGateFs::MakeEnv(fs_);
    auto store = internal::OpenStoreWithEnv(options_, master_.Clone(), env_.get());
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
  }

  bool Has(Store& store, const std::string& patient) {
    auto exists = store.Exists(patient, "Observation/0");
    return exists.ok() && *exists;
  }

  // A write on its own thread; `done` turns true when it returns. A test that stops early opens
  // the gate and joins, rather than leaving the thread behind.
  struct PendingWrite {
    ~PendingWrite() {
      if (!thread.joinable()) return;
      fs->Release();
      thread.join();
    }
    SyncGateFs* fs = nullptr;
    std::atomic<bool> done{false};
    Status status;
    std::thread thread;
  };
  void StartWrite(PendingWrite* w, const std::string& patient) {
    w->fs = fs_.get();
    w->thread = std::thread([this, w, patient] {
      w->status = store_->Write(Records(patient, 3), TestEvent());
      w->done = true;
    });
  }

  std::shared_ptr<SyncGateFs> fs_ = std::make_shared<SyncGateFs>();
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<Store> store_;
};

TEST_F(PowerCutTest, AWriteReturnsOnceSyncedAndACutKeepsExactlyWhatWasAcknowledged) {
  EDS_ASSERT_OK(store_->Write(Records("a", 3), TestEvent()));
  fs_->Hold();
  PendingWrite b;
  StartWrite(&b, "b");
  ASSERT_TRUE(Eventually([&] { return fs_->waiting() > 0; }));
  // In the log, waiting for its sync: neither returned nor visible to reads.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(b.done.load());
  EXPECT_FALSE(Has(*store_, "b"));

  // A power cut now: the acknowledged write is there, the pending one is not, and the audit
  // chain is whole.
  const std::string cut = dir_.Sub("cut");
  fs_->CopyAsAfterPowerCut(options_.data_dir, cut);
  fs_->Release();
  b.thread.join();
  EDS_EXPECT_OK(b.status);
  EXPECT_TRUE(Has(*store_, "b"));

  StoreOptions cut_options = options_;
  cut_options.data_dir = cut;
  {
    auto after_cut = Store::Open(cut_options, master_.Clone());
    ASSERT_THAT(after_cut, IsOk());
    EXPECT_THAT((*after_cut)->Read("a", "Observation/2", TestEvent()), IsOk());
    EXPECT_FALSE(Has(**after_cut, "b"));
    ExpectAuditIntact(**after_cut);
  }

  // Once acknowledged, a cut keeps it.
  const std::string cut2 = dir_.Sub("cut2");
  fs_->CopyAsAfterPowerCut(options_.data_dir, cut2);
  cut_options.data_dir = cut2;
  auto after_cut2 = Store::Open(cut_options, master_.Clone());
  ASSERT_THAT(after_cut2, IsOk());
  EXPECT_THAT((*after_cut2)->Read("b", "Observation/2", TestEvent()), IsOk());
}

TEST_F(PowerCutTest, WritersQueuedBehindASyncShareTheNextOne) {
  fs_->Hold();
  PendingWrite first;
  StartWrite(&first, "c");
  ASSERT_TRUE(Eventually([&] { return fs_->waiting() > 0; }));
  PendingWrite queued[3];
  const char* patients[3] = {"d", "e", "f"};
  for (int i = 0; i < 3; ++i) StartWrite(&queued[i], patients[i]);
  // Time for the three to queue behind the held write (they only seal their records first).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(fs_->waiting(), 1);
  const int syncs_before = fs_->syncs();
  fs_->Release();
  first.thread.join();
  EDS_EXPECT_OK(first.status);
  for (auto& w : queued) {
    w.thread.join();
    EDS_EXPECT_OK(w.status);
  }
  // The held sync, then one for the group of three.
  EXPECT_EQ(fs_->syncs() - syncs_before, 2);
  for (const char* p : patients) EXPECT_TRUE(Has(*store_, p)) << p;
  ExpectAuditIntact(*store_);
}

TEST_F(PowerCutTest, AFailedSyncFailsTheWriteAndKeepsWhatWasAcknowledged) {
  EDS_ASSERT_OK(store_->Write(Records("a", 3), TestEvent()));
  fs_->Hold();
  PendingWrite f;
  StartWrite(&f, "f");
  ASSERT_TRUE(Eventually([&] { return fs_->waiting() > 0; }));
  fs_->FailSyncs();
  f.thread.join();
  EXPECT_EQ(f.status.code(), StatusCode::kUnavailable) << f.status.ToString();
  EXPECT_FALSE(store_->Write(Records("g", 3), TestEvent()).ok());
  store_.reset();

  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Read("a", "Observation/2", TestEvent()), IsOk());
  EXPECT_FALSE(Has(*store, "g"));
  ExpectAuditIntact(*store);
}

}  // namespace
}  // namespace eds::storage
