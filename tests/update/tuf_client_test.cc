// TufClient over repositories made by the signing side (repository.h) and read through a
// FileFetcher: what is accepted, what each attack is refused with, and what survives a restart.
#include "update/tuf_client.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/testing/manual_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "update/bundle.h"
#include "update/file_fetcher.h"
#include "update/file_util.h"
#include "update/repository.h"

namespace eds::update {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::ManualClock;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class TufClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_.root = {GenerateSigningKey()};
    keys_.targets = {GenerateSigningKey()};
    keys_.snapshot = {GenerateSigningKey()};
    keys_.timestamp = {GenerateSigningKey()};
    ASSERT_THAT(InitRepository(repo_, keys_, NowSeconds() + 86400), IsOk());
    ASSERT_THAT(
        TufClient::InstallTrustedRoot(store_, *ReadFile(repo_ / "metadata" / "1.root.json")),
        IsOk());
  }

  void Add(const std::string& name, const std::string& data) {
    const fs::path file = dir_.path() / "input";
    ASSERT_THAT(WriteFileAtomic(file, data), IsOk());
    ASSERT_THAT(AddTarget(repo_, keys_, name, file, R"({"note":"x"})", NowSeconds() + 86400),
                IsOk());
  }

  std::unique_ptr<TufClient> Client(MetadataStore& store) {
    return std::make_unique<TufClient>(
        store, fetcher_, clock_,
        TufClientOptions{(repo_ / "metadata").string(), (repo_ / "targets").string()});
  }

  fs::path TargetFile(const std::string& name) {
    for (const auto& e : fs::directory_iterator(repo_ / "targets")) {
      if (e.path().filename().string().find(name) != std::string::npos) return e.path();
    }
    return {};
  }

  TempDir dir_;
  fs::path repo_ = dir_.path() / "repo";
  RepositoryKeys keys_;
  MemoryMetadataStore store_;
  FileFetcher fetcher_;
  ManualClock clock_{std::chrono::system_clock::now()};
};

TEST_F(TufClientTest, RefreshesAndDownloadsAVerifiedTarget) {
  Add("pack.json", "{\"a\":1}");
  auto client = Client(store_);
  ASSERT_THAT(client->Refresh(), IsOk());
  EXPECT_EQ(client->TargetsVersion(), 2);
  auto info = client->GetTargetInfo("pack.json");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->length, 7);
  EXPECT_EQ(info->custom_json, R"({"note":"x"})");
  auto data = client->DownloadTarget(*info);
  ASSERT_THAT(data, IsOk());
  EXPECT_EQ(*data, "{\"a\":1}");
  EXPECT_THAT(client->GetTargetInfo("absent.json"), StatusIs(StatusCode::kNotFound));
}

TEST_F(TufClientTest, RefusesToRefreshWithoutATrustedRoot) {
  MemoryMetadataStore empty;
  EXPECT_THAT(Client(empty)->Refresh(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(TufClientTest, RefusesATimestampRolledBackAcrossARestart) {
  DirectoryMetadataStore store(dir_.path() / "state");
  ASSERT_THAT(store.Put("root", *ReadFile(repo_ / "metadata" / "1.root.json")), IsOk());
  const std::string old_timestamp = *ReadFile(repo_ / "metadata" / "timestamp.json");
  Add("pack.json", "new");
  ASSERT_THAT(Client(store)->Refresh(), IsOk());
  ASSERT_THAT(WriteFileAtomic(repo_ / "metadata" / "timestamp.json", old_timestamp), IsOk());
  // A new client over the same directory: the trusted versions were kept on disk.
  Status s = Client(store)->Refresh();
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.message(), HasSubstr("rollback attack: timestamp version 1"));
}

TEST_F(TufClientTest, RefusesExpiredMetadata) {
  clock_.Advance(std::chrono::hours(48));
  Status s = Client(store_)->Refresh();
  EXPECT_THAT(s, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(s.message(), HasSubstr("expired"));
}

TEST_F(TufClientTest, RefusesATamperedTarget) {
  Add("pack.json", "genuine");
  ASSERT_THAT(WriteFileAtomic(TargetFile("pack.json"), "malware"), IsOk());
  auto client = Client(store_);
  ASSERT_THAT(client->Refresh(), IsOk());
  auto info = client->GetTargetInfo("pack.json");
  ASSERT_THAT(info, IsOk());
  auto data = client->DownloadTarget(*info);
  EXPECT_THAT(data, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(data.status().message(), HasSubstr("sha256 hash mismatch"));
}

TEST_F(TufClientTest, RefusesATargetLongerThanItsMetadataSays) {
  Add("pack.json", "genuine");
  ASSERT_THAT(WriteFileAtomic(TargetFile("pack.json"), "genuine and then some"), IsOk());
  auto client = Client(store_);
  ASSERT_THAT(client->Refresh(), IsOk());
  EXPECT_THAT(client->DownloadTarget(*client->GetTargetInfo("pack.json")),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(TufClientTest, RefusesATimestampSignedByAnotherKey) {
  RepositoryKeys attacker = keys_;
  attacker.timestamp = {GenerateSigningKey()};
  Add("pack.json", "one");
  const fs::path file = dir_.path() / "input";
  ASSERT_THAT(AddTarget(repo_, attacker, "evil.json", file, "", NowSeconds() + 86400), IsOk());
  Status s = Client(store_)->Refresh();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(s.message(), HasSubstr("signature threshold not met for timestamp"));
}

TEST_F(TufClientTest, RefusesASnapshotOtherThanTheTimestampNames) {
  Add("pack.json", "one");
  // Serve snapshot version 2 under the name of version 3 (mix-and-match of versions).
  Add("pack.json", "two");
  fs::copy_file(repo_ / "metadata" / "2.snapshot.json", repo_ / "metadata" / "3.snapshot.json",
                fs::copy_options::overwrite_existing);
  Status s = Client(store_)->Refresh();
  EXPECT_THAT(s, StatusIs(StatusCode::kDataLoss));  // the timestamp pins its length and hash
}

TEST_F(TufClientTest, FollowsAKeyRotationOfEveryRole) {
  Add("pack.json", "before");
  ASSERT_THAT(Client(store_)->Refresh(), IsOk());
  RepositoryKeys next;
  next.root = {GenerateSigningKey()};
  next.targets = {GenerateSigningKey()};
  next.snapshot = {GenerateSigningKey()};
  next.timestamp = {GenerateSigningKey()};
  ASSERT_THAT(RotateKeys(repo_, keys_.root, next, NowSeconds() + 86400), IsOk());
  keys_ = next;
  Add("pack.json", "after");
  auto client = Client(store_);
  ASSERT_THAT(client->Refresh(), IsOk());
  EXPECT_THAT(*store_.Get("root"), HasSubstr("\"version\":2"));
  EXPECT_EQ(*client->DownloadTarget(*client->GetTargetInfo("pack.json")), "after");
}

TEST_F(TufClientTest, RefusesARootRotationSignedOnlyByTheNewKeys) {
  ASSERT_THAT(Client(store_)->Refresh(), IsOk());
  RepositoryKeys next = keys_;
  next.root = {GenerateSigningKey()};
  ASSERT_THAT(RotateKeys(repo_, next.root, next, NowSeconds() + 86400), IsOk());
  Status s = Client(store_)->Refresh();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(s.message(), HasSubstr("root 2 by the previous root's keys"));
}

TEST_F(TufClientTest, ABundleVerifiesLikeTheRepository) {
  Add("pack.json", "from the bundle");
  const fs::path bundle = dir_.path() / "update.bundle";
  ASSERT_THAT(MakeRepositoryBundle(repo_, bundle), IsOk());
  auto fetcher = BundleFetcher::Open(bundle);
  ASSERT_THAT(fetcher, IsOk());
  TufClient client(store_, **fetcher, clock_, TufClientOptions{"metadata/", "targets/"});
  ASSERT_THAT(client.Refresh(), IsOk());
  auto info = client.GetTargetInfo("pack.json");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(*client.DownloadTarget(*info), "from the bundle");
}

TEST_F(TufClientTest, ATamperedBundleIsRefused) {
  Add("pack.json", "from the bundle");
  const fs::path bundle = dir_.path() / "update.bundle";
  ASSERT_THAT(MakeRepositoryBundle(repo_, bundle), IsOk());
  std::string bytes = *ReadFile(bundle);
  const size_t at = bytes.find("from the bundle");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'F';
  ASSERT_THAT(WriteFileAtomic(bundle, bytes), IsOk());
  auto fetcher = BundleFetcher::Open(bundle);
  ASSERT_THAT(fetcher, IsOk());
  TufClient client(store_, **fetcher, clock_, TufClientOptions{"metadata/", "targets/"});
  ASSERT_THAT(client.Refresh(), IsOk());
  EXPECT_THAT(client.DownloadTarget(*client.GetTargetInfo("pack.json")),
              StatusIs(StatusCode::kDataLoss));
}

TEST(BundleTest, RefusesATruncatedBundle) {
  TempDir dir;
  const fs::path input = dir.path() / "a";
  ASSERT_THAT(WriteFileAtomic(input, "0123456789"), IsOk());
  const fs::path bundle = dir.path() / "b";
  ASSERT_THAT(WriteBundle(bundle, {{"metadata/a", input}}), IsOk());
  std::string bytes = *ReadFile(bundle);
  ASSERT_THAT(WriteFileAtomic(bundle, bytes.substr(0, bytes.size() - 1)), IsOk());
  EXPECT_THAT(BundleFetcher::Open(bundle), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(WriteBundle(bundle, {{"../escape", input}}), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eds::update
