// Store::WatchFacts: an observer holds exactly the stored facts, from the first load through
// every later commit, re-filing, merge and erasure, and loses nothing written while it loads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "common/mutex.h"
#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

using FactsByPatient = std::map<uint64_t, std::multiset<std::string>>;

// Keeps the facts as the changes describe them: (patient, record) -> facts.
class Model final : public FactObserver {
 public:
  explicit Model(std::chrono::microseconds load_delay = {}) : load_delay_(load_delay) {}

  void Apply(const std::vector<FactChange>& changes) override {
    MutexLock lock(mu_);
    for (const auto& c : changes) {
      switch (c.kind) {
        case FactChange::Kind::kPut:
          // Slow during the load only, so commits pile up behind it.
          if (c.fresh) std::this_thread::sleep_for(load_delay_);
          if (c.facts.empty()) {
            facts_.erase({c.patient, c.record});
          } else {
            facts_[{c.patient, c.record}] = c.facts;
          }
          break;
        case FactChange::Kind::kErasePatient:
          std::erase_if(facts_, [&](const auto& e) { return e.first.first == c.patient; });
          break;
        case FactChange::Kind::kMergePatients: {
          std::map<std::pair<uint64_t, std::string>, std::string> moved;
          std::erase_if(facts_, [&](const auto& e) {
            if (e.first.first != c.patient) return false;
            moved[{c.into, e.first.second}] = e.second;
            return true;
          });
          for (auto& [k, v] : moved) facts_[k] = v;
          break;
        }
      }
    }
  }

  FactsByPatient ByPatient() {
    MutexLock lock(mu_);
    FactsByPatient out;
    for (const auto& [k, v] : facts_) out[k.first].insert(v);
    return out;
  }

 private:
  const std::chrono::microseconds load_delay_;
  Mutex mu_;
  std::map<std::pair<uint64_t, std::string>, std::string> facts_ EDS_GUARDED_BY(mu_);
};

FactsByPatient Stored(Store& store) {
  FactsByPatient out;
  EXPECT_THAT(store.ScanFacts(
                  [&](uint64_t no, std::string_view facts) {
                    out[no].emplace(facts);
                    return true;
                  },
                  TestEvent("scan")),
              IsOk());
  return out;
}

TEST_F(StoreTest, AWatcherHoldsTheStoredFactsThroughWritesMergesAndErasures) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "{}", "a1"},
                              {"bob", "Observation/2", "{}", "b2"},
                              {"carol", "Condition/3", "{}", "c3"}},
                             TestEvent()));
  Model model;
  EDS_ASSERT_OK(store->WatchFacts(&model, TestEvent("watch")));
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  EXPECT_EQ(model.ByPatient().size(), 3u);

  // A new version replaces the facts, "" removes them, a record without facts leaves them.
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "{}", "a1-v2"},
                              {"bob", "Observation/2", "{}", ""},
                              {"carol", "Condition/3", "{\"v\":2}"},
                              {"alice", "Encounter/4", "{}", "a4"}},
                             TestEvent()));
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  const uint64_t alice = store->PatientNumber("alice").value();
  EXPECT_EQ(model.ByPatient()[alice], (std::multiset<std::string>{"a1-v2", "a4"}));

  // A record with a global id re-filed under another patient takes its facts along.
  EDS_ASSERT_OK(store->Write({{"dave", "Encounter/5", "{}", "d5", true}}, TestEvent()));
  EDS_ASSERT_OK(store->Write({{"bob", "Encounter/5", "{}", "b5", true}}, TestEvent()));
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  EXPECT_EQ(model.ByPatient().count(store->PatientNumber("dave").value()), 0u);
  EDS_ASSERT_OK(store->ErasePatient("bob", TestEvent("erase")).status());

  ASSERT_THAT(store->MergePatients("carol", "alice", TestEvent("merge")), IsOk());
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  EXPECT_EQ(model.ByPatient()[alice], (std::multiset<std::string>{"a1-v2", "a4", "c3"}));

  ASSERT_THAT(store->ErasePatient("alice", TestEvent("erase")), IsOk());
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  EXPECT_TRUE(model.ByPatient().empty());

  // Watched once; after Unwatch it hears nothing more.
  EXPECT_THAT(store->WatchFacts(&model, TestEvent("watch")),
              StatusIs(StatusCode::kFailedPrecondition));
  store->UnwatchFacts(&model);
  EDS_ASSERT_OK(store->Write({{"dave", "Observation/9", "{}", "d9"}}, TestEvent()));
  EXPECT_TRUE(model.ByPatient().empty());
}

TEST_F(StoreTest, NothingCommittedWhileAWatcherLoadsIsLost) {
  auto store = OpenOrDie();
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<RecordWrite> records;
    for (int i = 0; i < 100; ++i) {
      const std::string id = std::to_string(batch * 100 + i);
      records.push_back({"p" + std::to_string(i % 37), "Observation/" + id, "{}", "f" + id});
    }
    EDS_ASSERT_OK(store->Write(records, TestEvent()));
  }
  // Writers replace, delete and add facts while the watcher loads (slowly) and afterwards.
  std::atomic<bool> loaded{false};
  std::atomic<int> during_load{0};
  std::thread writer([&] {
    for (int n = 0; n < 400; ++n) {
      const std::string id = std::to_string(n * 5);
      const std::string facts = n % 3 == 0 ? "" : "g" + std::to_string(n);
      ASSERT_THAT(store->Write({{"p" + std::to_string(n % 37), "Observation/" + id, "{}", facts},
                                {"q" + std::to_string(n % 11), "Condition/" + id, "{}", "h" + id}},
                               TestEvent()),
                  IsOk());
      if (!loaded) ++during_load;
    }
  });
  Model model(std::chrono::microseconds(200));
  EDS_ASSERT_OK(store->WatchFacts(&model, TestEvent("watch")));
  loaded = true;
  writer.join();
  EXPECT_GT(during_load.load(), 0) << "no write overlapped the load";
  EXPECT_EQ(model.ByPatient(), Stored(*store));
  store->UnwatchFacts(&model);
}

}  // namespace
}  // namespace eds::storage
