// Acknowledged means durable: a full disk refuses writes cleanly, and a writer killed with
// SIGKILL at random moments loses nothing it was told was stored.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <unordered_set>

#include "common/encoding.h"
#include "storage/internal/open_store.h"
#include "tests/storage/crash_writer_payload.h"
#include "tests/storage/store_fixture.h"
#include "tests/testing/fault_injection_fs.h"

extern char** environ;

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;

TEST_F(StoreTest, FullDiskRefusesTheWriteAndKeepsEverythingAcknowledged) {
  auto fs = std::make_shared<eds::testing::FaultInjectionFs>();
  auto env = eds::testing::FaultInjectionFs::MakeEnv(fs);
  {
    auto store = internal::OpenStoreWithEnv(options_, master_.Clone(), env.get());
    ASSERT_THAT(store, IsOk());
    EDS_ASSERT_OK((*store)->Write(Records("a", 20), TestEvent()));
    fs->FailWrites(true);
    const Status s = (*store)->Write(Records("b", 20), TestEvent());
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kUnavailable)
        << s.ToString();
    fs->FailWrites(false);
  }
  auto store = OpenOrDie();
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(store->Read("a", "Observation/" + std::to_string(i), TestEvent()), IsOk());
  }
  auto audit = store->VerifyAudit();
  ASSERT_THAT(audit, IsOk());
  EXPECT_TRUE(audit->intact) << audit->reason;
  auto records = store->VerifyRecords();
  ASSERT_THAT(records, IsOk());
  EXPECT_EQ(records->failed, 0u);
}

// Runs the crash writer until killed; returns the acknowledged sequence numbers.
std::vector<uint64_t> RunAndKill(const std::string& data_dir, const SecretKey& key, uint64_t start,
                                 std::chrono::milliseconds after) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  const std::string key_hex = HexEncode(key.view());
  const std::string start_text = std::to_string(start);
  std::vector<char*> argv = {
      const_cast<char*>(EDS_CRASH_WRITER), const_cast<char*>(data_dir.c_str()),
      const_cast<char*>(key_hex.c_str()), const_cast<char*>(start_text.c_str()), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, EDS_CRASH_WRITER, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  // Wait (bounded) until the writer has acknowledged a first batch, so a slow start on a busy
  // machine is not mistaken for a crash; then kill it at a random moment.
  std::string out;
  char head[256];
  pollfd p{fds[0], POLLIN, 0};
  if (::poll(&p, 1, 30000) > 0) {
    const ssize_t n = ::read(fds[0], head, sizeof head);
    if (n > 0) out.append(head, static_cast<size_t>(n));
  }
  std::this_thread::sleep_for(after);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // Lines already in the pipe were printed after a durable Write: they count as acknowledged.
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  std::vector<uint64_t> acked;
  size_t pos = 0;
  for (size_t nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    uint64_t first = 0, count = 0;
    if (std::sscanf(out.c_str() + pos, "%lu %lu", &first, &count) == 2) {
      for (uint64_t i = 0; i < count; ++i) acked.push_back(first + i);
    }
  }
  return acked;
}

TEST_F(StoreTest, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  std::mt19937 rng(std::random_device{}());
  std::vector<uint64_t> all_acked;
  uint64_t next = 1;
  for (int round = 0; round < 6; ++round) {
    const auto delay = std::chrono::milliseconds(100 + rng() % 500);
    auto acked = RunAndKill(options_.data_dir, master_, next, delay);
    ASSERT_FALSE(acked.empty()) << "round " << round << ": the writer acknowledged nothing";
    all_acked.insert(all_acked.end(), acked.begin(), acked.end());
    next = *std::max_element(all_acked.begin(), all_acked.end()) + 1000;

    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    // One scan (a read per record would add an audited, synced write each).
    std::unordered_set<std::string> stored;
    EDS_ASSERT_OK(store->Scan(
        [&](uint64_t, std::string_view payload) { return stored.emplace(payload), true; },
        TestEvent()));
    for (uint64_t seq : all_acked) {
      ASSERT_TRUE(stored.count(CrashWriterPayload(seq)))
          << "acknowledged record " << seq << " lost in round " << round;
    }
    // Spot-check the logical-id path too.
    EXPECT_THAT(store->Read(CrashWriterPatient(all_acked.back()),
                            CrashWriterLogicalId(all_acked.back()), TestEvent()),
                IsOk());
    auto audit = store->VerifyAudit();
    ASSERT_THAT(audit, IsOk());
    ASSERT_TRUE(audit->intact) << audit->reason;
    auto records = store->VerifyRecords();
    ASSERT_THAT(records, IsOk());
    ASSERT_EQ(records->failed, 0u);
  }
  // Batches held several records of one patient: record blocks were crash-tested too.
  EXPECT_GT(RecordsLayout(options_.data_dir)["block"], 0);
  std::cout << all_acked.size() << " acknowledged records survived 6 SIGKILLs\n";
}

}  // namespace
}  // namespace eds::storage
