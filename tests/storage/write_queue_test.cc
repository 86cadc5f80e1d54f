// The write queue under load: writers on many threads and exclusive runs between them all finish,
// each write once, in one unbroken audit chain, and an observer sees every write it was
// registered for.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/fact_observer.h"
#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

class CountingObserver : public FactObserver {
 public:
  void Apply(const std::vector<FactChange>& changes) override { seen += changes.size(); }
  std::atomic<size_t> seen{0};
};

TEST_F(StoreTest, ManyWritersAndExclusiveRunsAllFinishEachWriteOnce) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 8, kWrites = 60;
  const uint64_t entries_before = store->Stats().audit_entries;

  // Exclusive runs (registering and dropping a facts observer) between the writers' commits.
  std::atomic<bool> writing{true};
  std::atomic<int> exclusive_runs{0};
  std::thread watcher([&] {
    while (writing.load()) {
      CountingObserver observer;
      EDS_EXPECT_OK(store->WatchFacts(&observer, TestEvent("watch")));
      store->UnwatchFacts(&observer);
      ++exclusive_runs;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        RecordWrite r{"patient-" + std::to_string(t), "Observation/" + std::to_string(i),
                      R"({"resourceType":"Observation","id":")" + std::to_string(i) + R"("})"};
        r.facts = "f";
        EDS_EXPECT_OK(store->Write({r}, TestEvent()));
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  watcher.join();

  EXPECT_GT(exclusive_runs.load(), 0);
  // One entry a write, one a watch, one a new patient.
  EXPECT_EQ(store->Stats().audit_entries - entries_before,
            static_cast<uint64_t>(kWriters * kWrites + exclusive_runs.load() + kWriters));
  ExpectAuditIntact(*store);
  for (int t = 0; t < kWriters; ++t) {
    for (int i = 0; i < kWrites; ++i) {
      EDS_EXPECT_OK(store->Read("patient-" + std::to_string(t), "Observation/" + std::to_string(i),
                                TestEvent("read")));
    }
  }
}

TEST_F(StoreTest, AnObserverSeesEveryWriteCommittedWhileItIsRegistered) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  CountingObserver observer;
  EDS_ASSERT_OK(store->WatchFacts(&observer, TestEvent("watch")));
  constexpr int kWriters = 4, kWrites = 50;
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        RecordWrite r{"patient-" + std::to_string(t), "Observation/" + std::to_string(i),
                      R"({"resourceType":"Observation","id":"x"})"};
        r.facts = "f";
        EDS_EXPECT_OK(store->Write({r}, TestEvent()));
      }
    });
  }
  for (auto& w : writers) w.join();
  store->UnwatchFacts(&observer);
  EXPECT_EQ(observer.seen.load(), static_cast<size_t>(kWriters * kWrites));
}

}  // namespace
}  // namespace eds::storage
