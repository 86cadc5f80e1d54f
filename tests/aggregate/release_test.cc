// Releases: computed and checked, approved or rejected by a named reviewer with a comment,
// checked again on the exact bytes, differenced against what was approved before, durable.
#include "aggregate/release.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ingest::DayOf;
using ingest::Fact;
using ingest::FactType;

class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.Sub("data");
    Open();
    auto pack = ParseMeasurePack(R"({"pack":"t","version":"2","title":"t","measures":[
      {"url":"urn:m:stays","version":"1","title":"stays","count":"events",
       "population":{"resource":"Encounter"},
       "stratifiers":[{"id":"sex","components":["sex"]},{"id":"class","components":["encounter-class"]}]},
      {"url":"urn:m:cumulative","version":"1","title":"patients","count":"patients",
       "population":{"resource":"Encounter","start_offset_days":-3650},
       "stratifiers":[{"id":"sex","components":["sex"]}]}]})");
    ASSERT_TRUE(pack.ok()) << pack.status().ToString();
    packs_ = {*pack};
    // 40 women with an inpatient stay each, 3 men with an emergency visit, in January.
    for (int p = 0; p < 43; ++p) {
      Fact patient;
      patient.type = FactType::kPatient;
      patient.sex = p < 40 ? ingest::Sex::kFemale : ingest::Sex::kMale;
      patient.day = DayOf("1970-06-15");
      Fact stay;
      stay.type = FactType::kEncounter;
      stay.encounter_class = p < 40 ? "IMP" : "EMER";
      stay.day = DayOf("2025-01-10") + p % 15;
      ASSERT_THAT(store_->Write(
                      {{"p" + std::to_string(p), "Patient/1", "{}", ingest::EncodeFacts({patient})},
                       {"p" + std::to_string(p), "Encounter/1", "{}", ingest::EncodeFacts({stay})}},
                      {"t", "w", "", ""}),
                  IsOk());
    }
  }
  void Open() {
    book_.reset();  // the book watches the store's facts: it goes first
    store_.reset();
    store_ = std::move(storage::Store::Open(options_, master_.Clone()).value());
    book_ = std::make_unique<ReleaseBook>(*store_, SystemClock::Get());
  }

  eds::testing::TempDir dir_;
  storage::SecretKey master_ = storage::SecretKey::Random();
  storage::StoreOptions options_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ReleaseBook> book_;
  std::vector<MeasurePack> packs_;
};

TEST_F(ReleaseTest, AComputedReleaseIsCheckedThenApprovedByANamedReviewer) {
  auto r = book_->Compute(packs_, "2025-01", {}, {11, "Hôpital de Test"}, "edsctl");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "2025-01.1");
  EXPECT_EQ(r->state, ReleaseState::kChecked);
  ASSERT_EQ(r->history.size(), 2u);
  EXPECT_EQ(r->history[0].state, ReleaseState::kComputed);
  EXPECT_EQ(r->packs, std::vector<std::string>{"t@2"});
  // The 3 men are masked, and so is what would give them away.
  const auto shown = CellsOfBundle(r->bundle).value();
  EXPECT_FALSE(shown.at({"urn:m:stays|1", "sex", {"male"}}).has_value());
  EXPECT_FALSE(shown.at({"urn:m:stays|1", "sex", {"female"}}).has_value());
  EXPECT_EQ(shown.at({"urn:m:stays|1", "", {}}), std::optional<uint64_t>(43));
  EXPECT_FALSE(r->decisions.empty());
  const auto bundle = nlohmann::json::parse(r->bundle);
  EXPECT_EQ(bundle["entry"][0]["resource"]["reporter"]["display"], "Hôpital de Test");

  EXPECT_THAT(book_->Approve(r->id, packs_, "", "fine"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(book_->Approve(r->id, packs_, "dr.martin", ""),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(book_->Advance(r->id, ReleaseState::kSigned, "sync", ""),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_THAT(book_->Approve(r->id, packs_, "dr.martin", "counts look right"), IsOk());
  EXPECT_THAT(book_->Approve(r->id, packs_, "dr.martin", "again"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(book_->Reject(r->id, "dr.martin", "too late"),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_THAT(book_->Advance(r->id, ReleaseState::kSigned, "sync", ""), IsOk());
  EXPECT_THAT(book_->Advance(r->id, ReleaseState::kDelivered, "sync", ""),
              StatusIs(StatusCode::kFailedPrecondition));

  // Durable: the same after a restart, with the reviewer in the history and the audit log.
  Open();
  auto again = book_->Get(r->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ReleaseState::kSigned);
  EXPECT_EQ(again->history[2].actor, "dr.martin");
  EXPECT_EQ(again->history[2].comment, "counts look right");
  EXPECT_EQ(again->bundle, r->bundle);
  const auto list = book_->List().value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, ReleaseState::kSigned);
  auto audit = store_->ReadAudit(1, 100000).value();
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [](const storage::AuditEntry& e) {
    return e.event.action == "release.approved" && e.event.actor == "dr.martin";
  }));
}

TEST_F(ReleaseTest, TamperedBytesFailTheCheck) {
  auto r = book_->Compute(packs_, "2025-01", {}, {}, "edsctl").value();
  ASSERT_THAT(CheckReleaseBytes(r.bundle, packs_, 11), IsOk());
  auto bundle = nlohmann::json::parse(r.bundle);
  // Show the masked women's count: the men's count follows from the total.
  for (auto& e : bundle["entry"]) {
    auto& report = e["resource"];
    if (report["measure"] != "urn:m:stays|1") continue;
    for (auto& s : report["group"][0]["stratifier"]) {
      if (s["id"] != "sex") continue;
      for (auto& stratum : s["stratum"]) {
        if (stratum["value"]["text"] == "female") {
          stratum["population"][0].erase("_count");
          stratum["population"][0]["count"] = 40;
        }
      }
    }
  }
  EXPECT_THAT(CheckReleaseBytes(bundle.dump(), packs_, 11),
              StatusIs(StatusCode::kFailedPrecondition));
  // A shown small count fails too.
  std::string small = r.bundle;
  const std::string total = "\"count\":43";
  ASSERT_NE(small.find(total), std::string::npos);
  small.replace(small.find(total), total.size(), "\"count\":4");
  EXPECT_THAT(CheckReleaseBytes(small, packs_, 11), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ReleaseTest, ObjectingPatientsAreInNoCount) {
  std::set<uint64_t> excluded;
  for (int p = 0; p < 5; ++p) {
    excluded.insert(store_->PatientNumber("p" + std::to_string(p)).value());
  }
  auto r = book_->Compute(packs_, "2025-01", excluded, {}, "edsctl").value();
  const auto shown = CellsOfBundle(r.bundle).value();
  EXPECT_EQ(shown.at({"urn:m:stays|1", "", {}}), std::optional<uint64_t>(38));
}

TEST_F(ReleaseTest, ANewReleaseIsDifferencedAgainstApprovedOnes) {
  // Week 4 (20-26 January) approved first: its ten-year window holds all 43 patients.
  auto week = book_->Compute(packs_, "2025-W04", {}, {}, "edsctl").value();
  ASSERT_THAT(book_->Approve(week.id, packs_, "dr.martin", "ok"), IsOk());
  const CellId total{"urn:m:cumulative|1", "", {}};
  EXPECT_EQ(CellsOfBundle(week.bundle)->at(total), std::optional<uint64_t>(43));
  // Four more women come on 28 January: the month's window holds the week's, and its total
  // would tell those four apart. It is masked, by the differencing rule.
  for (int p = 100; p < 104; ++p) {
    Fact stay;
    stay.type = FactType::kEncounter;
    stay.encounter_class = "IMP";
    stay.day = DayOf("2025-01-28");
    ASSERT_THAT(
        store_->Write({{"p" + std::to_string(p), "Encounter/1", "{}", ingest::EncodeFacts({stay})}},
                      {"t", "w", "", ""}),
        IsOk());
  }
  auto month = book_->Compute(packs_, "2025-01", {}, {}, "edsctl").value();
  EXPECT_EQ(CellsOfBundle(month.bundle)->at(total), std::nullopt);
  EXPECT_TRUE(std::any_of(month.decisions.begin(), month.decisions.end(), [&](const Decision& d) {
    return d.rule == "differencing" && d.cell == total;
  }));
  EXPECT_EQ(month.state, ReleaseState::kChecked);
  // The reviewer may still refuse it; a rejected release is never approved afterwards.
  ASSERT_THAT(book_->Reject(month.id, "dr.martin", "recompute"), IsOk());
  EXPECT_THAT(book_->Approve(month.id, packs_, "dr.martin", "ok"),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(NoiseTest, CellKeyNoiseIsBoundedCentredAndFixedPerCell) {
  int64_t sum = 0;
  std::map<int64_t, int> seen;
  for (uint32_t key = 0; key < 20000; ++key) {
    const int64_t d = CellKeyNoise(40, key * 2654435761u);
    ASSERT_GE(d, -kMaxCellKeyNoise);
    ASSERT_LE(d, kMaxCellKeyNoise);
    EXPECT_EQ(d, CellKeyNoise(40, key * 2654435761u));
    sum += d;
    ++seen[d];
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_LT(std::abs(sum), 600);  // about zero on average
  EXPECT_GT(seen[0], 9000);       // half of the cells keep their count
  // Shown counts never fall below k, zeros stay zeros, rounding lands on the base.
  EXPECT_EQ(ShownCount(0, 7, 11, {5, true}), 0u);
  for (uint64_t c = 11; c < 200; ++c) {
    const uint64_t shown = ShownCount(c, static_cast<uint32_t>(c * 7919), 11, {5, true});
    EXPECT_GE(shown, 11u);
    EXPECT_TRUE(shown % 5 == 0 || shown == 11) << c;
    EXPECT_LE(shown > c ? shown - c : c - shown, Tolerance({5, true})) << c;
  }
}

TEST_F(ReleaseTest, RoundingAndCellKeyNoiseAreOptionalConsistentAndPassTheCheck) {
  ReleaseOptions options;
  options.noise = {5, true};
  auto first = book_->Compute(packs_, "2025-01", {}, options, "edsctl").value();
  auto second = book_->Compute(packs_, "2025-01", {}, options, "edsctl").value();
  EXPECT_EQ(first.state, ReleaseState::kChecked);
  const auto a = CellsOfBundle(first.bundle).value();
  const auto b = CellsOfBundle(second.bundle).value();
  EXPECT_EQ(a, b) << "the same cells get the same noise";
  const auto exact = book_->Compute(packs_, "2025-01", {}, {}, "edsctl").value();
  const auto truth = CellsOfBundle(exact.bundle).value();
  for (const auto& [cell, shown] : a) {
    if (!shown) continue;
    EXPECT_TRUE(*shown % 5 == 0 || *shown == 11) << cell.measure << " " << cell.stratifier;
    ASSERT_TRUE(truth.at(cell).has_value());
    const uint64_t t = *truth.at(cell);
    EXPECT_LE(*shown > t ? *shown - t : t - *shown, Tolerance(options.noise));
  }
  // The stored release remembers its noise, and approval checks it with that tolerance.
  EXPECT_THAT(book_->Approve(first.id, packs_, "dr.martin", "noisy but fine"), IsOk());
  EXPECT_EQ(book_->Get(first.id)->noise, options.noise);
}

}  // namespace
}  // namespace eds::aggregate
