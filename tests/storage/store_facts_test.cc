// Facts beside records, reads by logical id, idempotent loads and patient merges.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <set>

#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

// Every patient's facts, as the scan delivers them.
std::map<uint64_t, std::vector<std::string>> AllFacts(Store& store) {
  std::map<uint64_t, std::vector<std::string>> out;
  EXPECT_THAT(store.ScanFacts(
                  [&](uint64_t no, std::string_view facts) {
                    out[no].emplace_back(facts);
                    return true;
                  },
                  TestEvent("scan")),
              IsOk());
  return out;
}

// Every record's payload, whichever patient it is filed under.
std::multiset<std::string> AllRecords(Store& store) {
  std::multiset<std::string> out;
  EXPECT_THAT(store.Scan(
                  [&](uint64_t, std::string_view payload) {
                    out.insert(std::string(payload));
                    return true;
                  },
                  TestEvent("scan")),
              IsOk());
  return out;
}

TEST_F(StoreTest, FactsAreScannedPatientByPatientAndFollowTheirRecord) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "{}", "a1"},
                              {"bob", "Observation/2", "{}", "b2"},
                              {"alice", "Condition/3", "{}", "a3"},
                              {"alice", "HL7v2/msg", "raw"}},  // no facts
                             TestEvent()));
  const uint64_t alice = store->PatientNumber("alice").value();
  const uint64_t bob = store->PatientNumber("bob").value();
  auto facts = AllFacts(*store);
  ASSERT_EQ(facts.size(), 2u);
  std::sort(facts[alice].begin(), facts[alice].end());
  EXPECT_EQ(facts[alice], (std::vector<std::string>{"a1", "a3"}));
  EXPECT_EQ(facts[bob], (std::vector<std::string>{"b2"}));

  // A new version replaces the facts; one without facts ("") removes them.
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "{\"v\":2}", "a1 v2"},
                              {"alice", "Condition/3", "{\"status\":\"entered-in-error\"}", ""}},
                             TestEvent()));
  facts = AllFacts(*store);
  EXPECT_EQ(facts[alice], (std::vector<std::string>{"a1 v2"}));
  EXPECT_THAT(store->PatientNumber("nobody"), StatusIs(StatusCode::kNotFound));
}

TEST_F(StoreTest, ReadAnyFindsARecordByLogicalIdAloneAndIsAudited) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/7", "seven"}, {"", "Organization/1", "org"}},
                             TestEvent()));
  const uint64_t before = store->Stats().audit_entries;
  EXPECT_EQ(store->ReadAny("Observation/7", TestEvent("read")).value(), "seven");
  EXPECT_EQ(store->ReadAny("Organization/1", TestEvent("read")).value(), "org");
  EXPECT_THAT(store->ReadAny("Observation/8", TestEvent("read")), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(store->Stats().audit_entries, before + 3);
}

TEST_F(StoreTest, AWriteReportsWhichGlobalIdsWereStoredBeforeUnderAnyPatient) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/7", "seven", std::nullopt, true},
                              {"bob", "Observation/8", "eight", std::nullopt, true},
                              {"", "Organization/1", "org", std::nullopt, true},
                              {"carol", "Observation/5", "scoped"}},
                             TestEvent()));
  auto write = [&](const std::vector<RecordWrite>& records) {
    std::vector<bool> stored_before;
    EXPECT_THAT(store->Write(records, TestEvent(), {}, {}, &stored_before), IsOk());
    return stored_before;
  };
  // Global ids: found under their own patient, another, or none; a record whose id is scoped by
  // its patient is never reported.
  EXPECT_EQ(write({{"bob", "Observation/8", "8b", std::nullopt, true},
                   {"bob", "Observation/9", "9", std::nullopt, true},
                   {"", "Organization/1", "org2", std::nullopt, true},
                   {"bob", "Observation/7", "7b", std::nullopt, true},
                   {"", "Organization/2", "org", std::nullopt, true},
                   {"carol", "Observation/5", "scoped2"}}),
            (std::vector<bool>{true, false, true, true, false, false}));
  // An erased patient's records are no longer there.
  EDS_ASSERT_OK(store->ErasePatient("bob", TestEvent("erase")).status());
  EXPECT_EQ(write({{"alice", "Observation/7", "7a", std::nullopt, true},
                   {"alice", "Observation/9", "9a", std::nullopt, true},
                   {"alice", "Organization/2", "org-a", std::nullopt, true}}),
            (std::vector<bool>{false, false, true}));
}

TEST_F(StoreTest, TwoWritesOfOneIdUnderTwoPatientsAtOnceKeepOnlyTheLaterOne) {
  auto store = OpenOrDie();
  auto alices = store->Prepare({{"alice", "Observation/1", "va", "fa", true}}, TestEvent());
  ASSERT_THAT(alices, IsOk());
  // Bob's write of the same id, from another thread while alice's is not durable yet: its owner
  // look-up must wait for alice's, or both versions would stay.
  auto bobs = std::async(std::launch::async, [&store] {
    auto prepared = store->Prepare({{"bob", "Observation/1", "vb", "fb", true}}, TestEvent());
    return prepared.ok() ? store->Commit(std::move(*prepared)) : prepared.status();
  });
  EXPECT_EQ(bobs.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EDS_ASSERT_OK(store->Commit(std::move(*alices)));
  ASSERT_EQ(bobs.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EDS_ASSERT_OK(bobs.get());
  EXPECT_EQ(store->ReadAny("Observation/1", TestEvent("read")).value(), "vb");
  EXPECT_THAT(store->Read("alice", "Observation/1", TestEvent("read")),
              StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(AllRecords(*store), std::multiset<std::string>{"vb"});
  EXPECT_EQ(AllFacts(*store).size(), 1u);

  // A prepared write dropped uncommitted lets the next write of its ids go on.
  {
    auto dropped = store->Prepare({{"carol", "Observation/1", "vc", "fc", true}}, TestEvent());
    ASSERT_THAT(dropped, IsOk());
  }
  auto dave = std::async(std::launch::async, [&store] {
    return store->Write({{"dave", "Observation/1", "vd", "fd", true}}, TestEvent());
  });
  ASSERT_EQ(dave.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EDS_ASSERT_OK(dave.get());
  EXPECT_EQ(store->ReadAny("Observation/1", TestEvent("read")).value(), "vd");
}

TEST_F(StoreTest, ARecordFiledUnderAnotherPatientLeavesItsFormerPatient) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "v1", "fa", true},
                              {"alice", "Observation/2", "v1", "fa", true},
                              {"", "Observation/3", "v1", "f0", true},
                              {"alice", "Observation/4", "v1", "fa", true}},
                             TestEvent()));
  const uint64_t alice = store->PatientNumber("alice").value();
  // Corrections: 1 moves to bob, 2 to no patient, 3 from no patient to carol.
  EDS_ASSERT_OK(store->Write({{"bob", "Observation/1", "v2", "fb", true},
                              {"", "Observation/2", "v2", "f0", true},
                              {"carol", "Observation/3", "v2", "fc", true},
                              {"dave", "Observation/4", "v2", "fd"}},
                             TestEvent()));
  const std::multiset<std::string> records = AllRecords(*store);
  // Observation/4's id is scoped by patient: alice's and dave's are two records.
  EXPECT_EQ(records, (std::multiset<std::string>{"v2", "v2", "v2", "v1", "v2"}));
  std::multiset<std::string> facts;
  EDS_ASSERT_OK(store->ScanFacts(
      [&](uint64_t no, std::string_view f) {
        facts.insert(std::string(f) + (no == alice ? " (alice)" : ""));
        return true;
      },
      TestEvent()));
  EXPECT_EQ(facts, (std::multiset<std::string>{"fb", "f0", "fc", "fa (alice)", "fd"}));
  EXPECT_EQ(store->ReadAny("Observation/1", TestEvent("read")).value(), "v2");
  EXPECT_EQ(store->ReadAny("Observation/2", TestEvent("read")).value(), "v2");
  EXPECT_THAT(store->Read("alice", "Observation/1", TestEvent("read")),
              StatusIs(StatusCode::kNotFound));
  // Within one write too: its last version only, with its facts.
  std::vector<bool> within;
  EDS_ASSERT_OK(store->Write(
      {{"alice", "Observation/9", "v1", "fa", true}, {"bob", "Observation/9", "v2", "fb", true}},
      TestEvent(), {}, {}, &within));
  EXPECT_EQ(within, (std::vector<bool>{false, false}));
  EXPECT_EQ(store->ReadAny("Observation/9", TestEvent("read")).value(), "v2");
  EXPECT_THAT(store->Read("alice", "Observation/9", TestEvent("read")),
              StatusIs(StatusCode::kNotFound));

  // Erasing the former patient leaves the records that moved away.
  EDS_ASSERT_OK(store->ErasePatient("alice", TestEvent("erase")).status());
  std::vector<bool> stored_before;
  EDS_ASSERT_OK(store->Write({{"bob", "Observation/1", "v3", "fb", true},
                              {"", "Observation/2", "v3", "f0", true},
                              {"carol", "Observation/3", "v3", "fc", true}},
                             TestEvent(), {}, {}, &stored_before));
  EXPECT_EQ(stored_before, (std::vector<bool>{true, true, true}));
}

TEST_F(StoreTest, HoldsTellsWhetherTheSamePayloadIsStored) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "one"}}, TestEvent()));
  EXPECT_TRUE(Holds(*store, "alice", "Observation/1", "one").value());
  EXPECT_FALSE(Holds(*store, "alice", "Observation/1", "other").value());
  EXPECT_FALSE(Holds(*store, "alice", "Observation/2", "one").value());
  EXPECT_FALSE(Holds(*store, "bob", "Observation/1", "one").value());
}

TEST_F(StoreTest, MergeMovesRecordsFactsAndAliasesToTheSurvivor) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"old", "Observation/1", "o1", "f1"},
                              {"old", "Encounter/2", "e2", "f2"},
                              {"keep", "Observation/3", "k3", "f3"}},
                             TestEvent(), {{"IPP|2", "old"}, {"IPP|1", "keep"}}));
  const uint64_t old_no = store->PatientNumber("old").value();
  const uint64_t keep_no = store->PatientNumber("keep").value();
  EXPECT_EQ(store->MergePatients("old", "keep", TestEvent("merge")).value(), 2u);

  EXPECT_EQ(store->Read("keep", "Observation/1", TestEvent("read")).value(), "o1");
  EXPECT_EQ(store->Read("keep", "Encounter/2", TestEvent("read")).value(), "e2");
  EXPECT_EQ(store->ReadAny("Encounter/2", TestEvent("read")).value(), "e2");
  EXPECT_EQ(store->ResolveAlias("IPP|2").value(), std::optional<std::string>("keep"));
  EXPECT_THAT(store->PatientNumber("old"), StatusIs(StatusCode::kNotFound));
  auto facts = AllFacts(*store);
  EXPECT_EQ(facts.count(old_no), 0u);
  std::sort(facts[keep_no].begin(), facts[keep_no].end());
  EXPECT_EQ(facts[keep_no], (std::vector<std::string>{"f1", "f2", "f3"}));
  // Merging again, or an unknown patient, moves nothing.
  EXPECT_EQ(store->MergePatients("old", "keep", TestEvent("merge")).value(), 0u);
  EXPECT_THAT(store->VerifyRecords(), IsOk());
  EXPECT_EQ(store->VerifyRecords()->failed, 0u);

  // The merge is one audited action, and it survives a restart.
  auto audit = store->ReadAudit(1, 1000).value();
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(),
                          [](const AuditEntry& e) { return e.event.action == "patient.merge"; }));
  store.reset();
  store = OpenOrDie();
  EXPECT_EQ(store->Read("keep", "Observation/1", TestEvent("read")).value(), "o1");
}

TEST_F(StoreTest, ErasureRemovesFactsAndTheOwnerIndex) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(
      store->Write({{"alice", "Observation/1", "one", "fa"}, {"bob", "Observation/2", "two", "fb"}},
                   TestEvent()));
  const uint64_t bob = store->PatientNumber("bob").value();
  EDS_ASSERT_OK(store->ErasePatient("alice", TestEvent("erase")).status());
  const auto facts = AllFacts(*store);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts.begin()->first, bob);
  EXPECT_THAT(store->ReadAny("Observation/1", TestEvent("read")), StatusIs(StatusCode::kNotFound));
  store.reset();
  RawDb raw(options_.data_dir);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw.All(internal::Cf::kFacts).size(), 1u);
  EXPECT_EQ(raw.All(internal::Cf::kOwners).size(), 1u);
}

TEST_F(StoreTest, AFactsValueDoesNotPassForARecordValue) {
  {
    auto store = OpenOrDie();
    EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "record", "facts"}}, TestEvent()));
  }
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.ok());
    const auto facts = raw.All(internal::Cf::kFacts);
    ASSERT_EQ(facts.size(), 1u);
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.cf(internal::Cf::kRecords), facts[0].first,
                          facts[0].second)
                    .ok());
  }
  auto store = OpenOrDie();
  EXPECT_THAT(store->Read("alice", "Observation/1", TestEvent("read")),
              StatusIs(StatusCode::kDataLoss));
}

TEST_F(StoreTest, FactBucketEntriesOfEarlierVersionsGoWithTheirPatient) {
  auto store = OpenOrDie();
  EDS_ASSERT_OK(store->Write({{"alice", "Observation/1", "{}", "a"},
                              {"bob", "Observation/2", "{}", "b"},
                              {"carol", "Observation/3", "{}", "c"}},
                             TestEvent()));
  const uint64_t alice = store->PatientNumber("alice").value();
  const uint64_t bob = store->PatientNumber("bob").value();
  const uint64_t carol = store->PatientNumber("carol").value();
  store.reset();
  {
    // What an earlier version wrote: a hashed month (8 bytes) and the patient number.
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.ok());
    for (uint64_t no : {alice, bob, carol}) {
      std::string key = "monthxx" + std::to_string(no);
      key.resize(internal::kBucketHashSize);
      PutBigEndian64(key, no);
      ASSERT_TRUE(
          raw.db()->Put(rocksdb::WriteOptions(), raw.cf(internal::Cf::kFactBuckets), key, "").ok());
    }
  }
  store = OpenOrDie();
  EXPECT_EQ(store->MergePatients("bob", "alice", TestEvent("merge")).value(), 1u);
  EDS_ASSERT_OK(store->ErasePatient("carol", TestEvent("erase")).status());
  store.reset();
  RawDb raw(options_.data_dir);
  ASSERT_TRUE(raw.ok());
  const auto left = raw.All(internal::Cf::kFactBuckets);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(GetBigEndian64(left[0].first, internal::kBucketHashSize), alice);
}

}  // namespace
}  // namespace eds::storage
