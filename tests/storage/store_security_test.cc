// The store's privacy invariants: nothing identifying in plaintext on disk, opaque keys, and
// erasure that leaves nothing decryptable, in the live files or in earlier backups.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

// Known identifying strings written into records, logical ids and pseudonyms.
const std::vector<std::string>& Needles() {
  static const std::vector<std::string> n = {
      "Marchand-Dubois",      "Zephyrine",        "185127512345678", "IPP0045781236",
      "Observation/obs-4455", "pseudonym-7f3a9c", "Rue des Lilas"};
  return n;
}

std::vector<RecordWrite> IdentifyingRecords(int count) {
  std::vector<RecordWrite> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(
        {"pseudonym-7f3a9c" + std::to_string(i % 7), "Observation/obs-4455" + std::to_string(i),
         R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"185127512345678"},{"value":"IPP0045781236"}],"name":[{"family":"Marchand-Dubois","given":["Zephyrine"]}],"address":[{"line":["12 Rue des Lilas"]}],"n":)" +
             std::to_string(i) + "}",
         "facts of Zephyrine Marchand-Dubois " + std::to_string(i)});
  }
  return out;
}

// Every needle found in any file under `dir`, as "file: needle".
std::vector<std::string> FindNeedles(const std::filesystem::path& dir,
                                     const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string content = eds::testing::ReadFileOrDie(e.path());
    for (const auto& n : needles) {
      if (content.find(n) != std::string::npos)
        found.push_back(e.path().filename().string() + ": " + n);
    }
  }
  return found;
}

TEST_F(StoreTest, NoIdentifierAppearsInAnyFileUnderTheDataDir) {
  options_.dictionary_training_records = 200;
  {
    auto store = OpenOrDie();
    for (int b = 0; b < 6; ++b) {
      EDS_ASSERT_OK(
          store->Write(IdentifyingRecords(100), TestEvent(),
                       {{"urn:oid:1.2.250.1.213.1.4.8|185127512345678", "pseudonym-7f3a9c0"},
                        {"IPP0045781236", "pseudonym-7f3a9c0"}}));
    }
    for (int i = 0; i < 200 && store->Stats().dictionary_id == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(store->Stats().dictionary_id, 1u) << "the dictionary must be on disk for this test";
    // Unflushed data sits in the WAL, flushed data in SSTs: check both states.
    ASSERT_TRUE(FindNeedles(options_.data_dir, Needles()).empty());
  }
  std::set<std::string> kinds;
  for (const auto& e : std::filesystem::directory_iterator(options_.data_dir)) {
    const std::string name = e.path().filename().string();
    kinds.insert(name.find(".sst") != std::string::npos   ? "sst"
                 : name.find(".log") != std::string::npos ? "wal"
                 : name.rfind("MANIFEST", 0) == 0         ? "manifest"
                 : name.rfind("OPTIONS", 0) == 0          ? "options"
                 : name == "LOG"                          ? "log"
                                                          : "other");
  }
  for (const char* k : {"sst", "manifest", "options", "log"}) EXPECT_TRUE(kinds.count(k)) << k;
  const auto found = FindNeedles(options_.data_dir, Needles());
  EXPECT_TRUE(found.empty()) << found.front();
}

TEST_F(StoreTest, RocksDbKeysAreOpaque) {
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(IdentifyingRecords(20), TestEvent()));
  }
  RawDb raw(options_.data_dir);
  ASSERT_TRUE(raw.ok());
  for (auto c :
       {internal::Cf::kRecords, internal::Cf::kKeys, internal::Cf::kMeta, internal::Cf::kAudit}) {
    for (const auto& [key, value] : raw.All(c)) {
      for (const auto& n : Needles()) {
        EXPECT_EQ(key.find(n), std::string::npos) << n;
        EXPECT_EQ(value.find(n), std::string::npos) << n;
      }
      if (c == internal::Cf::kRecords) {
        // A record key, or a record block's (a patient number and a random id).
        EXPECT_TRUE(key.size() == internal::kRecordKeySize || key.size() == internal::kBlockKeySize)
            << key.size();
      }
    }
  }
}

TEST_F(StoreTest, ErasureLeavesNothingDecryptableLiveOrInEarlierBackups) {
  std::string backup;
  std::string wrapped_dek;
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(Records("erase-me", 30), TestEvent()));
    EDS_ASSERT_OK(store->Write(Records("keep-me", 30), TestEvent()));
    auto b = store->Backup(dir_.Sub("backups"), TestEvent());
    ASSERT_THAT(b, IsOk());
    backup = *b;
  }
  {
    RawDb raw(options_.data_dir);
    // Patient numbers are given in order of first write: erase-me is 1.
    std::string dek_key;
    dek_key.push_back('p');
    PutBigEndian64(dek_key, 1);
    ASSERT_TRUE(
        raw.db()
            ->Get(rocksdb::ReadOptions(), raw.cf(internal::Cf::kKeys), dek_key, &wrapped_dek)
            .ok());
  }
  auto store = OpenOrDie();
  auto report = store->ErasePatient("erase-me", TestEvent("erase"));
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->records_deleted, 30u);
  ASSERT_EQ(report->backups_scrubbed.size(), 1u);
  EXPECT_EQ(report->backups_scrubbed[0], backup);
  EXPECT_THAT(store->Read("erase-me", "Observation/1", TestEvent()),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store->Read("keep-me", "Observation/1", TestEvent()), IsOk());
  EXPECT_THAT(store->ErasePatient("erase-me", TestEvent()), StatusIs(StatusCode::kNotFound));
  store.reset();

  // The wrapped data key is gone from every file, live and backup.
  EXPECT_TRUE(FindNeedles(options_.data_dir, {wrapped_dek}).empty());
  EXPECT_TRUE(FindNeedles(backup, {wrapped_dek}).empty());

  // Restoring the earlier backup brings back the other patient, not the erased one.
  const std::string restored = dir_.Sub("restored");
  ASSERT_THAT(RestoreBackup(backup, restored), IsOk());
  options_.data_dir = restored;
  auto old = OpenOrDie();
  EXPECT_THAT(old->Read("erase-me", "Observation/1", TestEvent()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(old->Read("keep-me", "Observation/1", TestEvent()), IsOk());
  auto verify = old->VerifyRecords();
  ASSERT_THAT(verify, IsOk());
  EXPECT_EQ(verify->records, 30u);
  EXPECT_EQ(verify->failed, 0u);
}

TEST_F(StoreTest, AliasesResolveSurviveReopenAndGoWithErasure) {
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(Records("pseudo-a", 2), TestEvent(),
                               {{"IPP|123", "pseudo-a"}, {"Patient/abc", "pseudo-a"}}));
    EDS_ASSERT_OK(store->Write(Records("pseudo-b", 2), TestEvent(), {{"IPP|456", "pseudo-b"}}));
    EXPECT_THAT(store->Write({}, TestEvent(), {{"", "x"}}), StatusIs(StatusCode::kInvalidArgument));
  }
  auto store = OpenOrDie();
  EXPECT_EQ(*store->ResolveAlias("IPP|123"), std::optional<std::string>("pseudo-a"));
  EXPECT_EQ(*store->ResolveAlias("Patient/abc"), std::optional<std::string>("pseudo-a"));
  EXPECT_EQ(*store->ResolveAlias("IPP|999"), std::nullopt);
  EDS_ASSERT_OK(store->ErasePatient("pseudo-a", TestEvent()).status());
  EXPECT_EQ(*store->ResolveAlias("IPP|123"), std::nullopt);
  EXPECT_EQ(*store->ResolveAlias("Patient/abc"), std::nullopt);
  EXPECT_EQ(*store->ResolveAlias("IPP|456"), std::optional<std::string>("pseudo-b"));
}

TEST_F(StoreTest, NamedSecretsAreStableAcrossReopenAndRotation) {
  std::string first;
  const SecretKey new_master = SecretKey::Random();
  {
    auto store = OpenOrDie();
    auto s = store->Secret("pseudonym");
    ASSERT_THAT(s, IsOk());
    first = std::string(s->view());
    EXPECT_NE(std::string(store->Secret("tokens")->view()), first);
    EXPECT_THAT(store->Secret("a/b"), StatusIs(StatusCode::kInvalidArgument));
    EDS_ASSERT_OK(store->RotateMasterKey(new_master.Clone(), TestEvent()));
  }
  auto store = Store::Open(options_, new_master.Clone());
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(std::string((*store)->Secret("pseudonym")->view()), first);
}

TEST_F(StoreTest, ErasureReportsBackupsItCannotReach) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write(Records("x", 3), TestEvent()));
  auto b = store->Backup(dir_.Sub("backups"), TestEvent());
  ASSERT_THAT(b, IsOk());
  std::filesystem::rename(*b, dir_.Sub("moved-offline"));
  auto report = store->ErasePatient("x", TestEvent());
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->backups_unreachable.size(), 1u);
  EXPECT_EQ(report->backups_unreachable[0], *b);
}

}  // namespace
}  // namespace eds::storage
