// Record blocks (store format 3): the block and reference layouts, records written together
// sharing a block, tampering, and the collector of blocks whose records were replaced.
#include "storage/internal/record_block.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

std::string Hashed(char c) { return std::string(16, c); }

TEST(RecordBlockTest, BodiesRoundTripAndMalformedOnesAreRefused) {
  const std::string big(300, 'x');  // a size that takes two LEB128 bytes
  const std::string a = Hashed('a'), b = Hashed('b'), c = Hashed('c');
  const std::vector<internal::BlockSlot> slots = {{a, "first"}, {b, ""}, {c, big}};
  const std::string body = internal::EncodeBlockBody(slots);
  EXPECT_EQ(body.size(), 1 + 3 * 16 + 1 + 1 + 2 + 5 + 300);
  auto parsed = internal::ParseBlockBody(body);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*parsed)[i].hashed_id, slots[i].hashed_id);
    EXPECT_EQ((*parsed)[i].payload, slots[i].payload);
  }
  // Cut short anywhere, or with bytes after the last slot, a body is refused.
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_THAT(internal::ParseBlockBody(body.substr(0, n)), StatusIs(StatusCode::kDataLoss)) << n;
  }
  EXPECT_THAT(internal::ParseBlockBody(body + "!"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(internal::ParseBlockBody(std::string(1, '\0')), StatusIs(StatusCode::kDataLoss));
  std::string too_many(1, static_cast<char>(internal::kBlockMaxRecords + 1));
  too_many += std::string((internal::kBlockMaxRecords + 1) * 17, '\0');
  EXPECT_THAT(internal::ParseBlockBody(too_many), StatusIs(StatusCode::kDataLoss));
}

TEST(RecordBlockTest, ReferencesAreToldFromEnvelopes) {
  const std::string id = "12345678";
  const std::string ref = internal::EncodeRecordRef(id, 7);
  ASSERT_EQ(ref.size(), internal::kRecordRefSize);
  auto parsed = internal::ParseRecordRef(ref);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->block_id, id);
  EXPECT_EQ((*parsed)->slot, 7);
  // Envelopes start with their version (1 or 2): not references.
  for (const std::string& envelope : {std::string("\x01\x02rest"), std::string("\x02\x01rest")}) {
    auto other = internal::ParseRecordRef(envelope);
    ASSERT_THAT(other, IsOk());
    EXPECT_FALSE(other->has_value());
  }
  EXPECT_THAT(internal::ParseRecordRef(ref.substr(0, 5)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(internal::ParseRecordRef(internal::EncodeRecordRef(id, internal::kBlockMaxRecords)),
              StatusIs(StatusCode::kDataLoss));
}

TEST_F(StoreTest, RecordsOfOnePatientWrittenTogetherShareBlocks) {
  auto records = Records("p1", 70);
  records.push_back({"p2", "Patient/2", R"({"resourceType":"Patient","id":"2"})"});
  records.push_back({"p1", "Observation/0", R"({"resourceType":"Observation","id":"again"})"});
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->Write(records, TestEvent()), IsOk());
    // 70 records of p1 (Observation/0 once, in its last version) in two blocks of 35; p2's one
    // record alone.
    for (int i = 1; i < 70; ++i) {
      const std::string id = "Observation/" + std::to_string(i);
      auto read = store->Read("p1", id, TestEvent());
      ASSERT_THAT(read, IsOk()) << id;
      EXPECT_EQ(*read, records[static_cast<size_t>(i)].payload);
      EXPECT_THAT(Holds(*store, "p1", id, records[static_cast<size_t>(i)].payload), IsOk());
      EXPECT_TRUE(*Holds(*store, "p1", id, records[static_cast<size_t>(i)].payload));
      EXPECT_FALSE(*Holds(*store, "p1", id, records[0].payload));
    }
    EXPECT_EQ(*store->Read("p1", "Observation/0", TestEvent()), records.back().payload);
    EXPECT_EQ(*store->ReadAny("Patient/2", TestEvent()), records[70].payload);
    EXPECT_TRUE(*store->Exists("p1", "Observation/39"));
    EXPECT_FALSE(*store->Exists("p1", "Observation/70"));
    int scanned = 0;
    ASSERT_THAT(store->Scan(
                    [&](uint64_t, std::string_view payload) {
                      ++scanned;
                      return !payload.empty();
                    },
                    TestEvent()),
                IsOk());
    EXPECT_EQ(scanned, 71);
    auto verify = store->VerifyRecords();
    ASSERT_THAT(verify, IsOk());
    EXPECT_EQ(verify->records, 71u);
    EXPECT_EQ(verify->failed, 0u);
  }
  EXPECT_EQ(RecordsLayout(options_.data_dir),
            (std::map<std::string, int>{{"block", 2}, {"ref", 70}, {"v2", 1}}));
}

TEST_F(StoreTest, ARecordMarkedAloneIsSealedOutsideItsPatientsBlock) {
  auto records = Records("p1", 3);
  records[1].alone = true;
  {
    auto store = OpenOrDie();
    ASSERT_THAT(store->Write(records, TestEvent()), IsOk());
    for (const auto& r : records)
      EXPECT_EQ(*store->Read("p1", r.logical_id, TestEvent()), r.payload);
  }
  EXPECT_EQ(RecordsLayout(options_.data_dir),
            (std::map<std::string, int>{{"block", 1}, {"ref", 2}, {"v2", 1}}));
}

TEST_F(StoreTest, APreparedWriteIsInvisibleUntilCommittedAndWritesNothingWhenDropped) {
  auto store = OpenOrDie();
  const uint64_t audit_before = store->Stats().audit_entries;
  {
    auto dropped = store->Prepare(Records("p1", 2), TestEvent());
    ASSERT_THAT(dropped, IsOk());
  }
  EXPECT_FALSE(*store->Exists("p1", "Observation/0"));
  EXPECT_EQ(store->Stats().audit_entries, audit_before);

  auto first = store->Prepare(Records("p1", 2), TestEvent());
  ASSERT_THAT(first, IsOk());
  // Prepared while the first is not committed: a new patient's key rides in both.
  auto second =
      store->Prepare({{"p1", "Condition/c", "c"}, {"p2", "Condition/d", "d"}}, TestEvent());
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE(*store->Exists("p1", "Observation/0"));
  ASSERT_THAT(store->Commit(std::move(*first)), IsOk());
  EXPECT_TRUE(*store->Exists("p1", "Observation/1"));
  EXPECT_FALSE(*store->Exists("p1", "Condition/c"));
  ASSERT_THAT(store->Commit(std::move(*second)), IsOk());
  EXPECT_EQ(*store->Read("p1", "Condition/c", TestEvent()), "c");
  EXPECT_EQ(*store->Read("p2", "Condition/d", TestEvent()), "d");
  EXPECT_EQ(*store->Read("p1", "Observation/0", TestEvent()), Records("p1", 1)[0].payload);
  EXPECT_THAT(store->Commit(std::move(*second)), StatusIs(StatusCode::kInvalidArgument));
  auto verify = store->VerifyRecords();
  ASSERT_THAT(verify, IsOk());
  EXPECT_EQ(verify->failed, 0u);
}

TEST_F(StoreTest, HoldsEachAnswersForEveryRecordItIsAskedAbout) {
  auto store = OpenOrDie();
  const auto p1 = Records("p1", 3);
  ASSERT_THAT(store->Write(p1, TestEvent()), IsOk());
  ASSERT_THAT(store->Write({{"", "Organization/o", "org"}}, TestEvent()), IsOk());
  const std::vector<RecordWrite> asked = {
      p1[0],                                   // held
      {"p1", "Observation/1", "other"},        // same id, other content
      {"p1", "Observation/9", "new"},          // not stored
      {"p2", "Observation/0", p1[0].payload},  // a patient the store does not know
      {"p1", "Observation/2", p1[2].payload},  // held, after a run of another patient
      {"", "Organization/o", "org"},           // held under no patient
      p1[1],                                   // held, but not asked about
  };
  auto held =
      store->HoldsEach(asked, [&p1](const RecordWrite& r) { return r.payload != p1[1].payload; });
  ASSERT_THAT(held, IsOk());
  EXPECT_EQ(*held, (std::vector<bool>{true, false, false, false, true, true, false}));
  for (size_t i = 0; i + 1 < asked.size(); ++i) {
    EXPECT_EQ((*held)[i], *Holds(*store, asked[i].patient, asked[i].logical_id, asked[i].payload))
        << i;
  }
}

TEST_F(StoreTest, HoldsSeesRecordsReplacedAfterTheirBlockWasOpened) {
  auto store = OpenOrDie();
  const auto records = Records("p1", 4);
  ASSERT_THAT(store->Write(records, TestEvent()), IsOk());
  EXPECT_TRUE(*Holds(*store, "p1", "Observation/0", records[0].payload));  // opens the block
  ASSERT_THAT(
      store->Write({{"p1", "Observation/0", "zero"}, {"p1", "Observation/1", "one"}}, TestEvent()),
      IsOk());
  ASSERT_THAT(store->CollectBlocks(), IsOk());  // the block is rewritten with 2 and 3 only
  EXPECT_FALSE(*Holds(*store, "p1", "Observation/0", records[0].payload));
  EXPECT_TRUE(*Holds(*store, "p1", "Observation/0", "zero"));
  EXPECT_TRUE(*Holds(*store, "p1", "Observation/1", "one"));
  EXPECT_TRUE(*Holds(*store, "p1", "Observation/3", records[3].payload));
  // Another store opened in the same thread reads its own blocks.
  store.reset();
  const std::string other_dir = dir_.Sub("other");
  StoreOptions other_options = options_;
  other_options.data_dir = other_dir;
  auto other = Store::Open(other_options, master_.Clone());
  ASSERT_THAT(other, IsOk());
  EXPECT_FALSE(*Holds(**other, "p1", "Observation/3", records[3].payload));
  ASSERT_THAT((*other)->Write(Records("p1", 4), TestEvent()), IsOk());
  EXPECT_TRUE(*Holds(**other, "p1", "Observation/3", records[3].payload));
}

TEST_F(StoreTest, TamperedBlocksAndReferencesAreDataLoss) {
  { ASSERT_THAT(OpenOrDie()->Write(Records("p1", 4), TestEvent()), IsOk()); }
  std::string block_key;
  std::map<std::string, std::string> refs;  // record key -> reference
  {
    RawDb raw(options_.data_dir);
    for (const auto& [key, value] : raw.All(internal::Cf::kRecords)) {
      if (key.size() == internal::kBlockKeySize) {
        block_key = key;
      } else {
        refs[key] = value;
      }
    }
  }
  ASSERT_EQ(block_key.size(), internal::kBlockKeySize);
  ASSERT_EQ(refs.size(), 4u);
  auto count_readable = [this]() {
    auto store = OpenOrDie();
    int readable = 0;
    for (int i = 0; i < 4; ++i) {
      auto read = store->Read("p1", "Observation/" + std::to_string(i), TestEvent());
      if (read.ok()) {
        ++readable;
      } else {
        EXPECT_THAT(read, StatusIs(StatusCode::kDataLoss));
      }
    }
    EXPECT_EQ(store->VerifyRecords()->failed, static_cast<uint64_t>(4 - readable));
    return readable;
  };
  ASSERT_EQ(count_readable(), 4);

  // A reference pointed at another slot of the same block: the slot names another record.
  const auto first = refs.begin();
  const auto second = std::next(first);
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(
        raw.db()->Put({}, raw.cf(internal::Cf::kRecords), first->first, second->second).ok());
  }
  EXPECT_EQ(count_readable(), 3);
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(
        raw.db()->Put({}, raw.cf(internal::Cf::kRecords), first->first, first->second).ok());
    std::string sealed;
    ASSERT_TRUE(raw.db()->Get({}, raw.cf(internal::Cf::kRecords), block_key, &sealed).ok());
    sealed[sealed.size() / 2] ^= 1;  // one bit of the block's ciphertext
    ASSERT_TRUE(raw.db()->Put({}, raw.cf(internal::Cf::kRecords), block_key, sealed).ok());
  }
  EXPECT_EQ(count_readable(), 0);
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.db()->Delete({}, raw.cf(internal::Cf::kRecords), block_key).ok());
  }
  EXPECT_EQ(count_readable(), 0);  // a block gone is no "not found"
}

TEST_F(StoreTest, RecordsWithGlobalIdsLeaveTheirBlocksToTheCollectorWhenReplacedOrMoved) {
  auto store = OpenOrDie();
  auto global = [](std::vector<RecordWrite> records) {
    for (auto& r : records) r.global_id = true;
    return records;
  };
  ASSERT_THAT(store->Write(global(Records("p1", 10)), TestEvent()), IsOk());  // block A
  // 4 replaced under p1 (A keeps a majority), then 3 more moved to p2: A has 3 of 10 left and
  // is rewritten.
  auto replaced = Records("p1", 4);
  for (auto& r : replaced) r.payload += " ";
  ASSERT_THAT(store->Write(global(replaced), TestEvent()), IsOk());
  auto report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  std::vector<RecordWrite> moved;
  for (auto& r : Records("p2", 7)) {
    if (r.logical_id >= "Observation/4") moved.push_back(r);
  }
  ASSERT_THAT(store->Write(global(moved), TestEvent()), IsOk());
  report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  EXPECT_EQ(report->blocks_rewritten, 1u);
  EXPECT_EQ(report->records_kept, 3u);
}

TEST_F(StoreTest, TheCollectorReclaimsBlocksWhoseRecordsWereReplaced) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->Write(Records("p1", 10), TestEvent()), IsOk());  // block A: 0..9
  auto newer = [](int from, int to, const std::string& tag) {
    std::vector<RecordWrite> out;
    for (int i = from; i < to; ++i) {
      out.push_back({"p1", "Observation/" + std::to_string(i),
                     R"({"resourceType":"Observation","id":")" + std::to_string(i) +
                         R"(","note":")" + tag + "\"}"});
    }
    return out;
  };
  // 4 of A's 10 replaced (block B): A keeps a majority and stays.
  ASSERT_THAT(store->Write(newer(0, 4, "b"), TestEvent()), IsOk());
  auto report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  EXPECT_EQ(report->blocks_deleted + report->blocks_rewritten, 0u);
  // 2 more (block C): A has 4 of 10 left and is rewritten with those; B's 4 are still current.
  ASSERT_THAT(store->Write(newer(4, 6, "c"), TestEvent()), IsOk());
  report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  EXPECT_EQ(report->blocks_rewritten, 1u);
  EXPECT_EQ(report->records_kept, 4u);
  // B's 4 replaced by one record each (envelopes of their own): B is deleted.
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(store->Write(newer(i, i + 1, "d"), TestEvent()), IsOk());
  }
  report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  EXPECT_EQ(report->blocks_deleted, 1u);
  EXPECT_EQ(store->CollectBlocks()->markers, 0u);  // nothing waits any more

  for (int i = 0; i < 10; ++i) {
    const std::string id = "Observation/" + std::to_string(i);
    const std::string tag = i < 4 ? "d" : i < 6 ? "c" : "";
    auto read = store->Read("p1", id, TestEvent());
    ASSERT_THAT(read, IsOk()) << id;
    EXPECT_EQ(read->find(R"("note":")" + tag + "\"") != std::string::npos, !tag.empty()) << *read;
  }
  auto audit = store->ReadAudit(1, 1000);
  ASSERT_THAT(audit, IsOk());
  int collections = 0;
  for (const auto& e : *audit) collections += e.event.action == "store.collect";
  EXPECT_EQ(collections, 2);
  store.reset();
  // Left: A (6..9 current) and C (4..5), and 4 envelopes.
  EXPECT_EQ(RecordsLayout(options_.data_dir),
            (std::map<std::string, int>{{"block", 2}, {"ref", 6}, {"v2", 4}}));
}

TEST_F(StoreTest, AMergeThatReplacesASurvivorsRecordsLeavesTheirBlockToTheCollector) {
  auto store = OpenOrDie();
  ASSERT_THAT(store->Write(Records("keep", 3), TestEvent()), IsOk());
  ASSERT_THAT(store->Write({{"old", "Observation/0", "old 0"}, {"old", "Observation/1", "old 1"}},
                           TestEvent()),
              IsOk());
  EXPECT_EQ(*store->MergePatients("old", "keep", TestEvent("merge")), 2u);
  EXPECT_EQ(*store->Read("keep", "Observation/1", TestEvent()), "old 1");
  EXPECT_EQ(*store->Read("keep", "Observation/0", TestEvent()), "old 0");
  EXPECT_EQ(*store->Read("keep", "Observation/2", TestEvent()), Records("keep", 3)[2].payload);
  // keep's block lost 2 of its 3 records to the merge: rewritten with the one left.
  auto report = store->CollectBlocks();
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->markers, 1u);
  EXPECT_EQ(report->blocks_rewritten, 1u);
  EXPECT_EQ(report->records_kept, 1u);
  EXPECT_EQ(store->VerifyRecords()->failed, 0u);
}

TEST_F(StoreTest, CollectingWhileWritersReplaceTheSameRecordsLosesNoVersion) {
  auto store = OpenOrDie();
  constexpr int kWriters = 2;
  constexpr int kRounds = 60;
  constexpr int kRecords = 6;
  auto version = [](int writer, int record, int round) {
    return R"({"resourceType":"Observation","id":")" + std::to_string(record) + R"(","w":)" +
           std::to_string(writer) + R"(,"round":)" + std::to_string(round) + "}";
  };
  std::atomic<bool> done{false};
  std::atomic<uint64_t> collected{0};
  std::thread collector([&] {
    while (!done.load()) {
      auto report = store->CollectBlocks();
      ASSERT_THAT(report, IsOk());
      collected += report->blocks_deleted + report->blocks_rewritten;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string patient = "p" + std::to_string(w);
      for (int round = 0; round < kRounds; ++round) {
        // Every round replaces all records, or half of them: blocks die whole or in part.
        std::vector<RecordWrite> batch;
        for (int r = 0; r < kRecords; ++r) {
          if (round % 2 == 0 || r % 2 == 0) {
            batch.push_back({patient, "Observation/" + std::to_string(r), version(w, r, round)});
          }
        }
        ASSERT_THAT(store->Write(batch, TestEvent()), IsOk());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  collector.join();
  ASSERT_THAT(store->CollectBlocks(), IsOk());
  EXPECT_GT(collected.load(), 0u);
  for (int w = 0; w < kWriters; ++w) {
    for (int r = 0; r < kRecords; ++r) {
      // The last round (odd) wrote the even records; the one before it all of them.
      const int last = (r % 2 == 0) ? kRounds - 1 : kRounds - 2;
      auto read =
          store->Read("p" + std::to_string(w), "Observation/" + std::to_string(r), TestEvent());
      ASSERT_THAT(read, IsOk());
      EXPECT_EQ(*read, version(w, r, last));
    }
  }
  EXPECT_EQ(store->VerifyRecords()->failed, 0u);
  ASSERT_THAT(store->VerifyAudit(), IsOk());
  EXPECT_TRUE(store->VerifyAudit()->intact);
  store.reset();
  // Every block left holds a current record: none whose records were all replaced stays.
  auto layout = RecordsLayout(options_.data_dir);
  EXPECT_EQ(layout["ref"] + layout["v2"], kWriters * kRecords);
  RawDb raw(options_.data_dir);
  std::set<std::string> referred;
  std::vector<std::string> blocks;
  for (const auto& [key, value] : raw.All(internal::Cf::kRecords)) {
    if (key.size() == internal::kBlockKeySize) {
      blocks.push_back(key);
    } else if (auto ref = internal::ParseRecordRef(value); ref.ok() && ref->has_value()) {
      referred.insert(key.substr(0, 8) + (*ref)->block_id);
    }
  }
  for (const auto& b : blocks) EXPECT_EQ(referred.count(b), 1u);
}

}  // namespace
}  // namespace eds::storage
