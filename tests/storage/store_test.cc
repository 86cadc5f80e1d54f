#include "storage/store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

TEST_F(StoreTest, WrittenRecordsReadBackAfterReopen) {
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(Records("patient-a", 5), TestEvent()));
    EDS_ASSERT_OK(
        store->Write({{"", "Organization/1", R"({"resourceType":"Organization"})"}}, TestEvent()));
  }
  auto store = OpenOrDie();
  auto r = store->Read("patient-a", "Observation/3", TestEvent("read"));
  ASSERT_THAT(r, IsOk());
  EXPECT_NE(r->find(R"("id":"3")"), std::string::npos);
  EXPECT_EQ(*store->Read("", "Organization/1", TestEvent("read")),
            R"({"resourceType":"Organization"})");
  EXPECT_THAT(store->Read("patient-a", "Observation/99", TestEvent("read")),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store->Read("patient-z", "Observation/1", TestEvent("read")),
              StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(store->Stats().patients, 1u);
}

TEST_F(StoreTest, RewritingALogicalIdReplacesTheRecord) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"p", "Patient/1", "v1"}}, TestEvent()));
  EDS_ASSERT_OK(store->Write({{"p", "Patient/1", "v2"}}, TestEvent()));
  EXPECT_EQ(*store->Read("p", "Patient/1", TestEvent()), "v2");
  int n = 0;
  EDS_ASSERT_OK(store->Scan([&](uint64_t, std::string_view) { return ++n, true; }, TestEvent()));
  EXPECT_EQ(n, 1);
}

TEST_F(StoreTest, WithinOneBatchTheLastVersionOfARecordWins) {
  // The write path sorts a batch by key for the memtable: versions of one key keep their order.
  auto store = OpenOrDie();
  std::vector<RecordWrite> batch;
  for (int i = 0; i < 50; ++i) {
    batch.push_back({"p" + std::to_string(i % 7), "Observation/" + std::to_string(i % 5),
                     "v" + std::to_string(i), "f" + std::to_string(i)});
  }
  EDS_ASSERT_OK(store->Write(batch, TestEvent()));
  store.reset();
  store = OpenOrDie();  // read back from the WAL, as after a crash
  for (int p = 0; p < 7; ++p) {
    for (int o = 0; o < 5; ++o) {
      int last = -1;
      for (int i = 0; i < 50; ++i) {
        if (i % 7 == p && i % 5 == o) last = i;
      }
      auto read =
          store->Read("p" + std::to_string(p), "Observation/" + std::to_string(o), TestEvent());
      ASSERT_THAT(read, IsOk());
      EXPECT_EQ(*read, "v" + std::to_string(last));
    }
  }
  std::multiset<std::string> facts;
  EDS_ASSERT_OK(store->ScanFacts(
      [&](uint64_t, std::string_view f) { return facts.emplace(f), true; }, TestEvent()));
  EXPECT_EQ(facts.size(), 35u);
  EXPECT_EQ(facts.count("f49"), 1u);
  EXPECT_EQ(facts.count("f0"), 0u);  // p0's Observation/0 was written again as i = 35
}

TEST_F(StoreTest, OpeningWithAnotherMasterKeyFailsClearly) {
  { auto store = OpenOrDie(); }
  auto other = Store::Open(options_, SecretKey::Random());
  EXPECT_THAT(other, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(other.status().message().find("master key does not match"), std::string::npos);
}

TEST_F(StoreTest, AnOlderStoreGetsNewerLayoutsOnlyOnceItsFormatIsCommitted) {
  auto format = [this]() {
    RawDb raw(options_.data_dir);
    std::string v;
    EXPECT_TRUE(raw.db()->Get({}, raw.cf(internal::Cf::kMeta), internal::kFormatKey, &v).ok());
    return v;
  };
  auto set_format = [this](const std::string& v) {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.db()->Put({}, raw.cf(internal::Cf::kMeta), internal::kFormatKey, v).ok());
  };
  auto layout = [this]() { return RecordsLayout(options_.data_dir); };
  {
    auto store = OpenOrDie();  // a new store takes the newest format at once
    EXPECT_EQ(store->format(), internal::kStoreFormat);
    ASSERT_THAT(store->Write(Records("p1", 3, "A/"), TestEvent()), IsOk());
  }
  EXPECT_EQ(format(), "3");
  EXPECT_EQ(layout(), (std::map<std::string, int>{{"block", 1}, {"ref", 3}}));

  // As the first version left it: until committed, new records stay readable by that version.
  set_format("1");
  {
    auto store = OpenOrDie();
    EXPECT_EQ(store->format(), 1);
    ASSERT_THAT(store->Write(Records("p1", 4, "B/"), TestEvent()), IsOk());
  }
  EXPECT_EQ(format(), "1");
  EXPECT_EQ(layout(), (std::map<std::string, int>{{"block", 1}, {"ref", 3}, {"v1", 4}}));
  // As the second left it: version-2 envelopes, but no blocks.
  set_format("2");
  {
    auto store = OpenOrDie();
    EXPECT_EQ(store->format(), 2);
    ASSERT_THAT(store->Write(Records("p1", 2, "D/"), TestEvent()), IsOk());
  }
  EXPECT_EQ(format(), "2");
  EXPECT_EQ(layout(), (std::map<std::string, int>{{"block", 1}, {"ref", 3}, {"v1", 4}, {"v2", 2}}));
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->CommitFormat(), IsOk());
    EXPECT_EQ(store->format(), internal::kStoreFormat);
    ASSERT_THAT(store->CommitFormat(), IsOk());  // idempotent
    ASSERT_THAT(store->Write(Records("p1", 5, "C/"), TestEvent()), IsOk());
    for (const char* id : {"A/2", "B/3", "C/4", "D/1"}) {
      EXPECT_THAT(store->Read("p1", id, TestEvent()), IsOk()) << id;
    }
  }
  EXPECT_EQ(format(), "3");
  EXPECT_EQ(layout(), (std::map<std::string, int>{{"block", 2}, {"ref", 8}, {"v1", 4}, {"v2", 2}}));

  set_format("4");
  auto newer = Store::Open(options_, master_.Clone());
  EXPECT_THAT(newer, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(newer.status().message().find("format 4"), std::string::npos);
  EXPECT_EQ(format(), "4");  // left as it was

  set_format("x");
  EXPECT_THAT(Store::Open(options_, master_.Clone()), StatusIs(StatusCode::kDataLoss));
}

TEST_F(StoreTest, SecondOpenOfTheSameDirIsRefused) {
  auto store = OpenOrDie();
  EXPECT_THAT(Store::Open(options_, master_.Clone()), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(StoreTest, ScanDecryptsEveryRecordOfEveryPatient) {
  auto store = OpenOrDie();
  for (int p = 0; p < 10; ++p) {
    EDS_ASSERT_OK(store->Write(Records("patient-" + std::to_string(p), 20), TestEvent()));
  }
  int n = 0;
  std::set<uint64_t> patients;
  EDS_ASSERT_OK(store->Scan(
      [&](uint64_t no, std::string_view payload) {
        ++n;
        patients.insert(no);
        return payload.find("Observation") != std::string_view::npos;
      },
      TestEvent()));
  EXPECT_EQ(n, 200);
  EXPECT_EQ(patients.size(), 10u);
}

TEST_F(StoreTest, ConcurrentWritersAreAllDurableAndTheChainStaysIntact) {
  auto store = OpenOrDie();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_THAT(store->Write(Records("p" + std::to_string(t), 3, "T" + std::to_string(i) + "/"),
                                 TestEvent()),
                    IsOk());
      }
    });
  }
  for (auto& th : threads) th.join();
  int n = 0;
  EDS_ASSERT_OK(store->Scan([&](uint64_t, std::string_view) { return ++n, true; }, TestEvent()));
  EXPECT_EQ(n, 4 * 50 * 3);
  auto report = store->VerifyAudit();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact) << report->reason;
  EXPECT_GE(report->entries, 200u);
}

TEST_F(StoreTest, DictionaryIsTrainedOnceEnoughRecordsExistAndOldRecordsStayReadable) {
  options_.dictionary_training_records = 300;
  auto store = OpenOrDie();
  for (int b = 0; b < 10; ++b) {
    EDS_ASSERT_OK(store->Write(Records("p" + std::to_string(b), 100), TestEvent()));
  }
  for (int i = 0; i < 200 && store->Stats().dictionary_id == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(store->Stats().dictionary_id, 1u);
  EDS_ASSERT_OK(store->Write(Records("late", 10), TestEvent()));
  store.reset();
  store = OpenOrDie();
  EXPECT_EQ(store->Stats().dictionary_id, 1u);
  EXPECT_THAT(store->Read("p0", "Observation/7", TestEvent()), IsOk());
  EXPECT_THAT(store->Read("late", "Observation/7", TestEvent()), IsOk());
  auto verify = store->VerifyRecords();
  ASSERT_THAT(verify, IsOk());
  EXPECT_EQ(verify->records, 1010u);
  EXPECT_EQ(verify->failed, 0u);
}

TEST_F(StoreTest, ASecondDictionaryFollowsAtTenTimesTheRecordsAndEveryRecordStaysReadable) {
  options_.dictionary_training_records = 100;
  auto store = OpenOrDie();
  auto wait_for_dictionary = [&](uint32_t id) {
    for (int i = 0; i < 200 && store->Stats().dictionary_id < id; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return store->Stats().dictionary_id;
  };
  // Records of another shape than the first dictionary saw: a dictionary trained on the whole
  // store compresses them better, so it is adopted.
  auto conditions = [](const std::string& patient) {
    std::vector<RecordWrite> out;
    for (int i = 0; i < 100; ++i) {
      out.push_back({patient, "Condition/" + std::to_string(i),
                     R"({"resourceType":"Condition","id":")" + std::to_string(i) +
                         R"(","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/)"
                         R"(CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":)"
                         R"([{"system":"http://snomed.info/sct","code":")" +
                         std::to_string(40000 + i) + R"(","display":"Finding )" +
                         std::to_string(i) + R"("}]}})"});
    }
    return out;
  };
  EDS_ASSERT_OK(store->Write(Records("first", 150), TestEvent()));
  EDS_ASSERT_OK(store->Write(Records("first-b", 150), TestEvent()));
  ASSERT_EQ(wait_for_dictionary(1), 1u);
  for (int b = 0; b < 8; ++b) {
    EDS_ASSERT_OK(store->Write(conditions("p" + std::to_string(b)), TestEvent()));
  }
  EXPECT_EQ(store->Stats().dictionary_id, 1u) << "trained again before 10x the records";
  for (int b = 8; b < 12; ++b) {
    EDS_ASSERT_OK(store->Write(conditions("p" + std::to_string(b)), TestEvent()));
  }
  ASSERT_EQ(wait_for_dictionary(2), 2u);
  EDS_ASSERT_OK(store->Write(conditions("late"), TestEvent()));
  store.reset();
  store = OpenOrDie();
  EXPECT_EQ(store->Stats().dictionary_id, 2u);
  auto verify = store->VerifyRecords();
  ASSERT_THAT(verify, IsOk());
  EXPECT_EQ(verify->records, 1600u);
  EXPECT_EQ(verify->failed, 0u);
  EXPECT_THAT(store->Read("first", "Observation/7", TestEvent()), IsOk());
  EXPECT_THAT(store->Read("late", "Condition/7", TestEvent()), IsOk());
}

TEST_F(StoreTest, RotationReWrapsKeysWithoutRewritingRecords) {
  std::vector<std::pair<std::string, std::string>> before;
  const SecretKey new_master = SecretKey::Random();
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write(Records("a", 5), TestEvent()));
    EDS_ASSERT_OK(store->Write(Records("b", 5), TestEvent()));
    store.reset();
    before = RawDb(options_.data_dir).All(internal::Cf::kRecords);
    store = OpenOrDie();
    EDS_ASSERT_OK(store->RotateMasterKey(new_master.Clone(), TestEvent()));
    EXPECT_THAT(store->Read("a", "Observation/1", TestEvent()), IsOk());
    EXPECT_THAT(store->RotateMasterKey(new_master.Clone(), TestEvent()),
                StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(RawDb(options_.data_dir).All(internal::Cf::kRecords), before);
  EXPECT_THAT(Store::Open(options_, master_.Clone()), StatusIs(StatusCode::kFailedPrecondition));
  auto store = Store::Open(options_, new_master.Clone());
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->Read("b", "Observation/4", TestEvent()), IsOk());
  auto audit = (*store)->VerifyAudit();
  ASSERT_THAT(audit, IsOk());
  EXPECT_TRUE(audit->intact) << audit->reason;
}

TEST_F(StoreTest, TwentyThousandPatientsFitTheKeyCacheAndAllDecrypt) {
  // Each patient has its own data key; caching them must not cost a locked mapping apiece.
  auto store = OpenOrDie();
  for (int b = 0; b < 40; ++b) {
    std::vector<RecordWrite> batch;
    for (int i = 0; i < 500; ++i) {
      const std::string p = "patient-" + std::to_string(b * 500 + i);
      batch.push_back({p, "Patient/" + p, R"({"resourceType":"Patient","id":")" + p + "\"}"});
    }
    EDS_ASSERT_OK(store->Write(batch, TestEvent()));
  }
  EXPECT_EQ(store->Stats().patients, 20000u);
  int n = 0;
  EDS_ASSERT_OK(store->Scan([&](uint64_t, std::string_view) { return ++n, true; }, TestEvent()));
  EXPECT_EQ(n, 20000);
  EXPECT_THAT(store->Read("patient-17", "Patient/patient-17", TestEvent()), IsOk());
}

TEST_F(StoreTest, ConcurrentFirstWritesOfOnePatientShareOneNumber) {
  {
    auto store = OpenOrDie();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        EXPECT_THAT(
            store->Write(Records("new-patient", 5, "T" + std::to_string(t) + "/"), TestEvent()),
            IsOk());
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(store->Stats().patients, 1u);
  }
  auto store = OpenOrDie();
  std::set<uint64_t> numbers;
  EDS_ASSERT_OK(store->Scan([&](uint64_t no, std::string_view) { return numbers.insert(no), true; },
                            TestEvent()));
  EXPECT_EQ(numbers, std::set<uint64_t>{1});
  EXPECT_THAT(store->Read("new-patient", "T3/4", TestEvent()), IsOk());
  // Numbering resumes after the highest key, not from a counter.
  EDS_ASSERT_OK(store->Write(Records("second", 1), TestEvent()));
  EXPECT_EQ(store->Stats().patients, 2u);
}

TEST_F(StoreTest, BadInputIsRefusedAndChangesNothing) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write(Records("a", 1), TestEvent()));
  EXPECT_THAT(store->Write({{"a", "Observation/1", "new"}, {"a", "", "no id"}}, TestEvent()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(store->Read("a", "Observation/0", TestEvent())->find("Observation"), std::string::npos);
  EXPECT_THAT(store->Read("a", "Observation/1", TestEvent()), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace eds::storage
