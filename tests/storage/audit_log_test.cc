#include "storage/audit_log.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "tests/storage/store_fixture.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;

class AuditTamperTest : public StoreTest {
 protected:
  // A closed store with a known number of audit entries.
  uint64_t MakeLog() {
    auto store = OpenOrDie();
    for (int i = 0; i < 10; ++i)
      EDS_EXPECT_OK(store->Audit({"admin:alice", "config.change", "", ""}));
    EDS_EXPECT_OK(store->Write(Records("p", 2), TestEvent()));
    return store->Stats().audit_entries;
  }
  AuditVerifyReport Verify() {
    auto store = OpenOrDie();
    auto r = store->VerifyAudit();
    EXPECT_THAT(r, IsOk());
    return *r;
  }
};

TEST_F(AuditTamperTest, IntactChainVerifiesAndListsEveryEntry) {
  const uint64_t n = MakeLog();
  auto store = OpenOrDie();
  auto report = store->VerifyAudit();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact);
  EXPECT_EQ(report->entries, n + 1);  // + this open
  auto entries = store->ReadAudit(1, 1000);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), n + 1);
  auto has = [&](const std::string& action, const std::string& actor) {
    return std::any_of(entries->begin(), entries->end(), [&](const AuditEntry& e) {
      return e.event.action == action && e.event.actor == actor;
    });
  };
  EXPECT_TRUE(has("store.open", "system"));
  EXPECT_TRUE(has("config.change", "admin:alice"));
  EXPECT_TRUE(has("test", "test"));  // the record write
  for (size_t i = 1; i < entries->size(); ++i)
    EXPECT_EQ((*entries)[i].prev_hash, (*entries)[i - 1].hash);
}

TEST_F(AuditTamperTest, AlteredEntryIsNamed) {
  MakeLog();
  {
    RawDb raw(options_.data_dir);
    std::string v;
    ASSERT_TRUE(raw.db()->Get({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(4), &v).ok());
    v.replace(v.find("alice"), 5, "mallo");
    ASSERT_TRUE(raw.db()->Put({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(4), v).ok());
  }
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_broken, 4u);
  EXPECT_EQ(r.entries, 3u);
  EXPECT_NE(r.reason.find("altered"), std::string::npos) << r.reason;
}

TEST_F(AuditTamperTest, RemovedEntryIsNamed) {
  MakeLog();
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.db()->Delete({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(6)).ok());
  }
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_broken, 6u);
  EXPECT_NE(r.reason.find("missing"), std::string::npos) << r.reason;
}

TEST_F(AuditTamperTest, EntriesSwappedBetweenPositionsAreDetected) {
  MakeLog();
  {
    RawDb raw(options_.data_dir);
    std::string a, b;
    auto* cf = raw.cf(internal::Cf::kAudit);
    ASSERT_TRUE(raw.db()->Get({}, cf, internal::AuditKey(3), &a).ok());
    ASSERT_TRUE(raw.db()->Get({}, cf, internal::AuditKey(5), &b).ok());
    ASSERT_TRUE(raw.db()->Put({}, cf, internal::AuditKey(3), b).ok());
    ASSERT_TRUE(raw.db()->Put({}, cf, internal::AuditKey(5), a).ok());
  }
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_broken, 3u);
}

TEST_F(AuditTamperTest, TruncatedTailIsDetected) {
  const uint64_t n = MakeLog();
  {
    RawDb raw(options_.data_dir);
    ASSERT_TRUE(raw.db()->Delete({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(n)).ok());
  }
  // Opening appends a new entry after the head; verification must still see the gap.
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_broken, n);
}

TEST_F(AuditTamperTest, ForgedEntryWithoutTheKeyDoesNotVerify) {
  const uint64_t n = MakeLog();
  {
    RawDb raw(options_.data_dir);
    std::string last;
    ASSERT_TRUE(raw.db()->Get({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(n), &last).ok());
    // A forger who knows the format but not the audit key: chain with an unkeyed guess.
    AuditChain forger(SecretKey::Random());
    std::string hash;
    const std::string forged = forger.Seal(n + 1, 0, {"admin:alice", "noop", "", ""},
                                           last.substr(0, kAuditHashSize), &hash);
    ASSERT_TRUE(
        raw.db()->Put({}, raw.cf(internal::Cf::kAudit), internal::AuditKey(n + 1), forged).ok());
    std::string head;
    PutBigEndian64(head, n + 1);
    head += hash;
    ASSERT_TRUE(
        raw.db()
            ->Put({}, raw.cf(internal::Cf::kMeta), std::string(internal::kAuditHeadKey), head)
            .ok());
  }
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  EXPECT_EQ(r.first_broken, n + 1);
}

}  // namespace
}  // namespace eds::storage
