#include "storage/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

std::map<uint64_t, std::multiset<std::string>> Contents(Store& store) {
  std::map<uint64_t, std::multiset<std::string>> out;
  EXPECT_THAT(store.Scan(
                  [&](uint64_t no, std::string_view p) {
                    out[no].insert(std::string(p));
                    return true;
                  },
                  TestEvent()),
              IsOk());
  return out;
}

TEST_F(StoreTest, RestoreBringsBackExactlyWhatWasBackedUp) {
  std::string backup;
  std::map<uint64_t, std::multiset<std::string>> at_backup;
  {
    auto store = OpenOrDie();
    for (int p = 0; p < 5; ++p) {
      EDS_ASSERT_OK(store->Write(Records("p" + std::to_string(p), 40), TestEvent()));
    }
    at_backup = Contents(*store);
    // Online: the store stays open and writable while the backup is taken.
    auto b = store->Backup(dir_.Sub("backups"), TestEvent());
    ASSERT_THAT(b, IsOk());
    backup = *b;
    EXPECT_TRUE(std::filesystem::exists(backup + "/EDS-BACKUP.json"));
    EDS_ASSERT_OK(store->Write(Records("after-backup", 5), TestEvent()));
    EDS_ASSERT_OK(store->Write({{"p0", "Observation/1", "changed"}}, TestEvent()));
  }
  auto moved = RestoreBackup(backup, options_.data_dir);
  ASSERT_THAT(moved, IsOk());
  EXPECT_TRUE(std::filesystem::exists(*moved)) << "the replaced data dir is kept";
  auto store = OpenOrDie();
  EXPECT_EQ(Contents(*store), at_backup);
  EXPECT_THAT(store->Read("after-backup", "Observation/1", TestEvent()),
              StatusIs(StatusCode::kNotFound));
  auto audit = store->VerifyAudit();
  ASSERT_THAT(audit, IsOk());
  EXPECT_TRUE(audit->intact) << audit->reason;
}

TEST_F(StoreTest, RestoreRefusesADataDirInUse) {
  auto store = OpenOrDie();
  auto b = store->Backup(dir_.Sub("backups"), TestEvent());
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(RestoreBackup(*b, options_.data_dir), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(RestoreBackup(dir_.Sub("nothing-here"), dir_.Sub("x")),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(StoreTest, TwoBackupsInTheSameSecondGetDistinctDirectories) {
  auto store = OpenOrDie();
  auto a = store->Backup(dir_.Sub("backups"), TestEvent());
  auto b = store->Backup(dir_.Sub("backups"), TestEvent());
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_NE(*a, *b);
}

TEST_F(StoreTest, BackupsFollowAMasterKeyRotation) {
  const SecretKey new_master = SecretKey::Random();
  std::string backup;
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(Records("p", 10), TestEvent()));
    backup = *store->Backup(dir_.Sub("backups"), TestEvent());
    EDS_ASSERT_OK(store->RotateMasterKey(new_master.Clone(), TestEvent()));
  }
  options_.data_dir = dir_.Sub("restored");
  ASSERT_THAT(RestoreBackup(backup, options_.data_dir), IsOk());
  EXPECT_THAT(Store::Open(options_, master_.Clone()), StatusIs(StatusCode::kFailedPrecondition));
  auto store = Store::Open(options_, new_master.Clone());
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Read("p", "Observation/9", TestEvent()), IsOk());
}

}  // namespace
}  // namespace eds::storage
