// The two command-line tools against a third-party TUF implementation, over loopback HTTP:
// tuf-js's Updater verifies and downloads from a repository made by eds-update-sign, and
// eds-tuf-client (the conformance-suite client protocol) refreshes and downloads from
// repositories made by @tufjs/models.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/update/http_file_server.h"
#include "tests/update/tuf_js_repos.h"
#include "update/command_runner.h"
#include "update/file_util.h"
#include "update/internal/crypto.h"

namespace eds::update {
namespace {

using ::eds::testing::BinaryPath;
using ::eds::testing::HttpFileServer;
using ::eds::testing::IsOk;
using ::eds::testing::SourcePath;
using ::eds::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Runs a program to completion (bounded) and returns its exit code and output.
CommandResult RunProgram(std::vector<std::string> argv) {
  ProcessRunner runner;
  auto run = runner.Run(argv, std::chrono::seconds(180));
  EXPECT_THAT(run, IsOk());
  return run.ok() ? *run : CommandResult{-1, run.status().ToString()};
}

std::string Sign() { return BinaryPath("bin/eds-update-sign").string(); }
std::string Client() { return BinaryPath("bin/eds-tuf-client").string(); }

class SigningToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      const std::string key = dir_.Sub(std::string(role) + ".key");
      ASSERT_EQ(RunProgram({Sign(), "keygen", key}).exit_code, 0);
      key_args_.insert(key_args_.end(), {std::string("--") + role + "-key", key});
    }
    std::vector<std::string> init = {Sign(), "init", "--repo", repo_.string()};
    init.insert(init.end(), key_args_.begin(), key_args_.end());
    auto r = RunProgram(init);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    AddTarget("packs/eds-default.json", SourcePath("packs/eds-default.json"),
              {"--kind", "measure-pack", "--version", "1.0.0"});
    ASSERT_THAT(WriteFileAtomic(dir_.path() / "firmware.img", std::string(100000, 'f')), IsOk());
    AddTarget("firmware.img", dir_.path() / "firmware.img", {});
  }

  void AddTarget(const std::string& name, const fs::path& file, std::vector<std::string> extra) {
    std::vector<std::string> argv = {Sign(),   "add-target", "--repo", repo_.string(),
                                     "--name", name,         "--file", file.string()};
    for (size_t i = 2; i < key_args_.size(); ++i) argv.push_back(key_args_[i]);  // no root key
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = RunProgram(argv);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  CommandResult TufJsDownload() {
    return RunProgram({"/usr/bin/node", SourcePath("tests/clients/tuf_download.mjs").string(),
                       server_.Url("metadata/"), server_.Url("targets/"),
                       (repo_ / "metadata" / "1.root.json").string(), dir_.Sub("tufjs"),
                       "packs/eds-default.json", "firmware.img"});
  }

  TempDir dir_;
  fs::path repo_ = dir_.path() / "repo";
  std::vector<std::string> key_args_;
  HttpFileServer server_{repo_};
};

TEST_F(SigningToolTest, TufJsVerifiesAndDownloadsItsRepository) {
  auto r = TufJsDownload();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string pack = *ReadFile(SourcePath("packs/eds-default.json"));
  EXPECT_THAT(r.output, HasSubstr("packs/eds-default.json " + internal::Sha256Hex(pack)));
  EXPECT_THAT(r.output, HasSubstr("firmware.img " + internal::Sha256Hex(std::string(100000, 'f'))));
}

TEST_F(SigningToolTest, TufJsRefusesATamperedTarget) {
  const std::string hash = internal::Sha256Hex(std::string(100000, 'f'));
  ASSERT_THAT(
      WriteFileAtomic(repo_ / "targets" / (hash + ".firmware.img"), std::string(99999, 'f') + "X"),
      IsOk());
  auto r = TufJsDownload();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("tuf-js refused"));
}

TEST_F(SigningToolTest, TufJsFollowsAKeyRotation) {
  std::vector<std::string> argv = {Sign(), "rotate", "--repo", repo_.string()};
  argv.insert(argv.end(), {"--old-root-key", key_args_[1]});
  for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
    const std::string key = dir_.Sub(std::string(role) + "2.key");
    ASSERT_EQ(RunProgram({Sign(), "keygen", key}).exit_code, 0);
    argv.insert(argv.end(), {std::string("--") + role + "-key", key});
  }
  auto rotated = RunProgram(argv);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  ASSERT_TRUE(fs::exists(repo_ / "metadata" / "2.root.json"));
  // tuf-js starts from root version 1 and walks to version 2.
  auto r = TufJsDownload();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("firmware.img "));
}

TEST_F(SigningToolTest, MakesABundleHoldingTheWholeRepository) {
  auto r = RunProgram({Sign(), "bundle", "--repo", repo_.string(), "--out", dir_.Sub("u.bundle")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string bundle = *ReadFile(dir_.path() / "u.bundle");
  EXPECT_EQ(bundle.substr(0, 8), "EDSUPD1\n");
  for (const char* name : {"metadata/1.root.json", "metadata/timestamp.json",
                           "metadata/3.snapshot.json", "metadata/3.targets.json"}) {
    EXPECT_THAT(bundle, HasSubstr(name));
  }
}

class ConformanceClientTest : public ::testing::Test {
 protected:
  // Made once per suite; a failure fails each test (in SetUp), never a silent skip.
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

  int Init(const std::string& scenario) {
    return RunProgram({Client(), "--metadata-dir", dir_.Sub("md"), "init",
                       (repos_->path() / scenario / "trusted_root.json").string()})
        .exit_code;
  }
  CommandResult Refresh() {
    return RunProgram({Client(), "--metadata-dir", dir_.Sub("md"), "--metadata-url",
                       server_.Url("metadata"), "refresh"});
  }
  CommandResult Download(const std::vector<std::string>& names) {
    std::vector<std::string> argv = {Client(),
                                     "--metadata-dir",
                                     dir_.Sub("md"),
                                     "--metadata-url",
                                     server_.Url("metadata"),
                                     "--target-base-url",
                                     server_.Url("targets/"),
                                     "--target-dir",
                                     dir_.Sub("targets")};
    for (const auto& n : names) argv.insert(argv.end(), {"--target-name", n});
    argv.push_back("download");
    return RunProgram(argv);
  }
  fs::path Step(const std::string& scenario, int step) {
    return repos_->path() / scenario / std::to_string(step);
  }

  static TempDir* repos_;
  TempDir dir_;
  HttpFileServer server_{"/nonexistent"};
};

TempDir* ConformanceClientTest::repos_ = nullptr;

TEST_F(ConformanceClientTest, RefreshStoresTheVerifiedMetadataUnversioned) {
  server_.SetRoot(Step("valid_delegation", 1));
  ASSERT_EQ(Init("valid_delegation"), 0);
  auto r = Refresh();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path served = Step("valid_delegation", 1) / "metadata";
  EXPECT_EQ(*ReadFile(dir_.path() / "md" / "timestamp.json"), *ReadFile(served / "timestamp.json"));
  EXPECT_EQ(*ReadFile(dir_.path() / "md" / "snapshot.json"), *ReadFile(served / "1.snapshot.json"));
  EXPECT_EQ(*ReadFile(dir_.path() / "md" / "targets.json"), *ReadFile(served / "1.targets.json"));
  EXPECT_EQ(*ReadFile(dir_.path() / "md" / "root.json"), *ReadFile(served / "1.root.json"));
}

// The client reads the time through libc: libfaketime (Debian's faketime) moves it past every
// expiry, and the same refresh that passes today fails.
TEST_F(ConformanceClientTest, FaketimeMovesTheClockPastTheMetadataExpiry) {
  server_.SetRoot(Step("valid_delegation", 1));
  ASSERT_EQ(Init("valid_delegation"), 0);
  // Under AddressSanitizer the runtime must come first; libfaketime is preloaded before it.
  const char* asan = getenv("ASAN_OPTIONS");
  const std::string options =
      std::string(asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "") +
      "verify_asan_link_order=0";
  setenv("ASAN_OPTIONS", options.c_str(), /*overwrite=*/1);
  auto late = RunProgram({"/usr/bin/faketime", "-f", "+3650d", Client(), "--metadata-dir",
                          dir_.Sub("md"), "--metadata-url", server_.Url("metadata"), "refresh"});
  EXPECT_EQ(late.exit_code, 1) << late.output;
  EXPECT_THAT(late.output, HasSubstr("expired"));
  auto now = Refresh();
  EXPECT_EQ(now.exit_code, 0) << now.output;
}

TEST_F(ConformanceClientTest, DownloadsTargetsInOrderAndSkipsThoseAlreadyPresent) {
  server_.SetRoot(Step("valid_delegation", 1));
  ASSERT_EQ(Init("valid_delegation"), 0);
  auto r = Download({"pack.json", "packs/p.json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(*ReadFile(dir_.path() / "targets" / "pack.json"), HasSubstr("interop"));
  EXPECT_THAT(*ReadFile(dir_.path() / "targets" / "packs%2Fp.json"), HasSubstr("interop"));
  auto targets_fetched = [this] {
    int n = 0;
    for (const auto& req : server_.Requests()) n += req.rfind("/targets/", 0) == 0;
    return n;
  };
  EXPECT_EQ(targets_fetched(), 2);
  ASSERT_EQ(Download({"pack.json", "packs/p.json"}).exit_code, 0);
  EXPECT_EQ(targets_fetched(), 2);
  // A file that no longer matches is fetched again.
  ASSERT_THAT(WriteFileAtomic(dir_.path() / "targets" / "pack.json", "changed"), IsOk());
  ASSERT_EQ(Download({"pack.json"}).exit_code, 0);
  EXPECT_EQ(targets_fetched(), 3);
  EXPECT_THAT(*ReadFile(dir_.path() / "targets" / "pack.json"), HasSubstr("interop"));
}

TEST_F(ConformanceClientTest, ExitsOneOnARollback) {
  ASSERT_EQ(Init("rollback_timestamp"), 0);
  server_.SetRoot(Step("rollback_timestamp", 1));
  ASSERT_EQ(Refresh().exit_code, 0);
  server_.SetRoot(Step("rollback_timestamp", 2));
  auto r = Refresh();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("rollback attack"));
}

TEST_F(ConformanceClientTest, ExitsOneForAnUnknownTargetOrAnUnsignedRoot) {
  server_.SetRoot(Step("valid", 1));
  ASSERT_EQ(Init("valid"), 0);
  EXPECT_EQ(Download({"absent.json"}).exit_code, 1);
  std::string root = *ReadFile(repos_->path() / "valid" / "trusted_root.json");
  root.replace(root.find("\"version\":1"), 11, "\"version\":7");
  ASSERT_THAT(WriteFileAtomic(dir_.path() / "forged_root.json", root), IsOk());
  auto r = RunProgram(
      {Client(), "--metadata-dir", dir_.Sub("md2"), "init", dir_.Sub("forged_root.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("signature threshold not met for root"));
}

}  // namespace
}  // namespace eds::update
