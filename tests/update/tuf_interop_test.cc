// The client against repositories made by another implementation: tests/clients/
// tuf_make_repos.mjs writes them with @tufjs/models (a valid one, and one per attack of the TUF
// threat model), and they are served over loopback HTTP to HttpFetcher. Each attack must be
// refused with its own error.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/update/http_file_server.h"
#include "tests/update/tuf_js_repos.h"
#include "update/command_runner.h"
#include "update/file_util.h"
#include "update/http_fetcher.h"
#include "update/tuf_client.h"

namespace eds::update {
namespace {

using ::eds::testing::HttpFileServer;
using ::eds::testing::IsOk;
using ::eds::testing::SourcePath;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kPack[] = R"({"pack":"interop","version":"1.0.0"})";

struct StepResult {
  Status refresh;
  Result<std::string> target = NotFoundError("not fetched");
};

class TufInteropTest : public ::testing::Test {
 protected:
  // The repositories are made once per suite; a failure there fails each test (in SetUp) rather
  // than letting GoogleTest report them as skipped.
  static void SetUpTestSuite() {
    repos_ = new TempDir();
    made_ = MakeTufJsRepositories(repos_->path());
  }
  void SetUp() override { ASSERT_EQ(made_, "") << "making the tuf-js repositories failed"; }
  static inline std::string made_;
  static void TearDownTestSuite() {
    delete repos_;
    repos_ = nullptr;
  }

  // Starts from the scenario's trusted root and refreshes against each step in turn, with a new
  // client each time (as after a restart) over the same store; fetches `target` after a refresh
  // that succeeded.
  std::vector<StepResult> Run(const std::string& scenario,
                              const std::string& target = "pack.json") {
    const fs::path dir = repos_->path() / scenario;
    EXPECT_THAT(TufClient::InstallTrustedRoot(store_, *ReadFile(dir / "trusted_root.json")),
                IsOk());
    std::vector<StepResult> results;
    for (int step = 1; fs::exists(dir / std::to_string(step)); ++step) {
      server_.SetRoot(dir / std::to_string(step));
      TufClient client(store_, fetcher_, SystemClock::Get(),
                       TufClientOptions{server_.Url("metadata"), server_.Url("targets")});
      StepResult r;
      r.refresh = client.Refresh();
      if (r.refresh.ok()) {
        auto info = client.GetTargetInfo(target);
        r.target = info.ok() ? client.DownloadTarget(*info) : Result<std::string>(info.status());
      }
      results.push_back(std::move(r));
    }
    return results;
  }

  static TempDir* repos_;
  HttpFileServer server_{"/nonexistent"};
  HttpFetcher fetcher_{std::chrono::seconds(10)};
  MemoryMetadataStore store_;
};

TempDir* TufInteropTest::repos_ = nullptr;

TEST_F(TufInteropTest, AcceptsAValidRepository) {
  auto steps = Run("valid");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  ASSERT_THAT(steps[0].target, IsOk());
  EXPECT_EQ(*steps[0].target, kPack);
}

TEST_F(TufInteropTest, FindsATargetThroughADelegation) {
  auto steps = Run("valid_delegation", "packs/p.json");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  ASSERT_THAT(steps[0].target, IsOk());
  EXPECT_EQ(*steps[0].target, kPack);
  EXPECT_THAT(store_.Get("packs"), IsOk());
}

TEST_F(TufInteropTest, ReadsPlainFileNamesWhenTheNewRootTurnsConsistentSnapshotsOff) {
  auto steps = Run("valid_not_consistent");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  ASSERT_THAT(steps[0].target, IsOk());
  EXPECT_EQ(*steps[0].target, kPack);
}

TEST_F(TufInteropTest, RefusesADelegatedRoleSignedByAnotherKey) {
  auto steps = Run("delegation_signed_by_another_key", "packs/p.json");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[0].target, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[0].target.status().message(), HasSubstr("for packs: 0 valid of 1"));
}

TEST_F(TufInteropTest, FollowsARootRotationSignedByTheOldAndNewKeys) {
  auto steps = Run("root_rotation_signed_by_old_and_new");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(*store_.Get("root"), HasSubstr("\"version\":2"));
}

TEST_F(TufInteropTest, RefusesARootRotationWithoutTheOldKeysSignatures) {
  auto steps = Run("root_rotation_without_old_keys");
  EXPECT_THAT(steps[0].refresh, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[0].refresh.message(), HasSubstr("root 2 by the previous root's keys"));
  EXPECT_THAT(*store_.Get("root"), HasSubstr("\"version\":1"));
}

TEST_F(TufInteropTest, RefusesArbitrarySoftwareWithABadHash) {
  auto steps = Run("arbitrary_software_bad_hash");
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[0].target, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(steps[0].target.status().message(),
              HasSubstr("target pack.json: sha256 hash mismatch"));
}

TEST_F(TufInteropTest, RefusesArbitrarySoftwareWithABadSignature) {
  auto steps = Run("arbitrary_software_bad_signature");
  EXPECT_THAT(steps[0].refresh, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[0].refresh.message(),
              HasSubstr("signature threshold not met for targets: 0 valid of 1"));
}

TEST_F(TufInteropTest, RefusesTargetsSignedBelowTheThreshold) {
  auto steps = Run("threshold_not_met");
  EXPECT_THAT(steps[0].refresh, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[0].refresh.message(), HasSubstr("for targets: 1 valid of 2 required"));
}

TEST_F(TufInteropTest, RefusesMetadataSignedByARevokedKey) {
  auto steps = Run("revoked_key");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[1].refresh.message(), HasSubstr("for targets: 0 valid of 1"));
}

TEST_F(TufInteropTest, RefusesARolledBackTimestamp) {
  auto steps = Run("rollback_timestamp");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(steps[1].refresh.message(),
              HasSubstr("rollback attack: timestamp version 1 is lower than the trusted 2"));
}

TEST_F(TufInteropTest, RefusesRolledBackTargets) {
  auto steps = Run("rollback_targets");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(steps[1].refresh.message(),
              HasSubstr("rollback attack: targets.json version 1 is lower than the trusted 2"));
}

TEST_F(TufInteropTest, RefusesAnExpiredTimestamp) {
  auto steps = Run("freeze_expired_timestamp");
  EXPECT_THAT(steps[0].refresh, StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(steps[0].refresh.message(), HasSubstr("timestamp metadata version 1 expired"));
}

TEST_F(TufInteropTest, RefusesEndlessData) {
  auto steps = Run("endless_data_timestamp");
  EXPECT_THAT(steps[0].refresh, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(steps[0].refresh.message(), HasSubstr("timestamp.json is longer than 16384 bytes"));
}

TEST_F(TufInteropTest, RefusesMixAndMatchedMetadata) {
  auto steps = Run("mix_and_match_targets");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(steps[1].refresh.message(),
              HasSubstr("targets version 1 is not the version 2 the snapshot names"));
}

TEST_F(TufInteropTest, RecoversFromAFastForwardAttackOnceTheTimestampKeyRotates) {
  auto steps = Run("fast_forward_recovery");
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, IsOk());  // the leaked key still signs validly
  EXPECT_THAT(steps[2].refresh, IsOk());  // version 2 after 1000: trust in the old key ended
  EXPECT_THAT(*store_.Get("timestamp"), HasSubstr("\"version\":2"));
}

TEST_F(TufInteropTest, RefusesAFastForwardSignedByARotatedOutKey) {
  auto steps = Run("fast_forward_old_key_after_rotation");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_THAT(steps[0].refresh, IsOk());
  EXPECT_THAT(steps[1].refresh, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(steps[1].refresh.message(), HasSubstr("for timestamp: 0 valid of 1"));
}

}  // namespace
}  // namespace eds::update
