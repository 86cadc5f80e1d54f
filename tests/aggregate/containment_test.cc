// Containment between measures: proved from the definitions only, and weighed by secondary
// suppression, so a masked cell cannot be pinned through a measure whose population holds it.
#include "aggregate/containment.h"

#include <gtest/gtest.h>

#include "aggregate/period.h"

namespace eds::aggregate {
namespace {

using Cells = std::map<std::vector<std::string>, uint64_t>;

MeasurePack Pack(const std::string& measures_json) {
  auto pack = ParseMeasurePack(R"({"pack":"t","version":"1","title":"t","measures":)" +
                               measures_json + "}");
  EXPECT_TRUE(pack.ok()) << pack.status().ToString();
  return pack.ok() ? *pack : MeasurePack{};
}

constexpr char kMeasures[] = R"([
  {"url":"urn:all-stays","version":"1","title":"a","count":"events",
   "population":{"resource":"Encounter"},"stratifiers":[{"id":"sex","components":["sex"]}]},
  {"url":"urn:inpatient-stays","version":"1","title":"b","count":"events",
   "population":{"resource":"Encounter","encounter_class":["IMP"]},
   "stratifiers":[{"id":"sex","components":["sex"]}]},
  {"url":"urn:emergency","version":"1","title":"c","count":"events",
   "population":{"resource":"Encounter","encounter_class":["EMER"]},"stratifiers":[]},
  {"url":"urn:inpatient-patients","version":"1","title":"d","count":"patients",
   "population":{"resource":"Encounter","encounter_class":["IMP"]},"stratifiers":[]},
  {"url":"urn:diabetes","version":"1","title":"e","count":"patients",
   "population":{"resource":"Condition","codes":[{"system":"icd-10","prefixes":["E10","E11","E12","E13","E14"]}]},
   "stratifiers":[]},
  {"url":"urn:type2","version":"1","title":"f","count":"patients",
   "population":{"resource":"Condition","codes":[{"system":"icd-10","codes":["E119"],"prefixes":["E11"]}]},
   "stratifiers":[]},
  {"url":"urn:diabetes-year","version":"1","title":"g","count":"patients",
   "population":{"resource":"Condition","start_offset_days":-365,
   "codes":[{"system":"icd-10","prefixes":["E1"]}]},"stratifiers":[]},
  {"url":"urn:deaths","version":"1","title":"h","count":"patients",
   "population":{"resource":"Patient","deaths":true},"stratifiers":[]},
  {"url":"urn:in-hospital-deaths","version":"1","title":"i","count":"patients",
   "population":{"resource":"Patient","deaths":true,"death_in_class":["IMP"]},"stratifiers":[]}])";

TEST(ContainmentTest, ProvedFromTheDefinitionsOnly) {
  const MeasurePack p = Pack(kMeasures);
  ASSERT_EQ(p.measures.size(), 9u);
  const auto& m = p.measures;
  EXPECT_TRUE(PopulationContains(m[0], m[1]));  // inpatient stays inside all stays
  EXPECT_FALSE(PopulationContains(m[1], m[0]));
  EXPECT_FALSE(PopulationContains(m[1], m[2]));  // inpatient and emergency are apart
  EXPECT_FALSE(PopulationContains(m[1], m[3]));  // events and patients do not compare
  EXPECT_TRUE(PopulationContains(m[4], m[5]));   // E11 and E119 inside E10-E14
  EXPECT_FALSE(PopulationContains(m[5], m[4]));
  EXPECT_TRUE(PopulationContains(m[6], m[4]));  // a longer window and a wider prefix
  EXPECT_FALSE(PopulationContains(m[4], m[6]));
  EXPECT_TRUE(PopulationContains(m[7], m[8]));  // in-hospital deaths inside deaths
  EXPECT_FALSE(PopulationContains(m[8], m[7]));
  EXPECT_FALSE(PopulationContains(m[0], m[0]));  // a measure is not related to itself
}

MeasureCounts Counts(const MeasurePack& pack, size_t i, uint64_t total, Cells by_sex) {
  MeasureCounts c;
  c.pack = &pack;
  c.measure = &pack.measures[i];
  c.population = total;
  if (!pack.measures[i].stratifiers.empty()) {
    c.stratifiers.push_back({&pack.measures[i].stratifiers[0], std::move(by_sex), {}});
  }
  return c;
}

// 42 women with an inpatient stay and one man in the emergency room: all stays by sex masks the
// man and, to protect him, the women; but inpatient stays by sex shows 42 women, and since they
// are part of all stays, all stays' women are at least 42 of 43: the man would be pinned to 1.
TEST(ContainmentTest, SecondarySuppressionWeighsAMeasureInsideAnother) {
  const MeasurePack p = Pack(kMeasures);
  const std::vector<MeasureCounts> counts = {Counts(p, 0, 43, {{{"female"}, 42}, {{"male"}, 1}}),
                                             Counts(p, 1, 42, {{{"female"}, 42}, {{"male"}, 0}})};
  const std::string all = MeasureKey(p.measures[0]);
  const CellId man{all, "sex", {"male"}};
  const auto relations = RelationsOf(counts);
  EXPECT_EQ(std::count_if(relations.begin(), relations.end(),
                          [](const Relation& r) { return r.contained; }),
            3);  // the totals and both strata

  // What an attacker gets from the per-measure masking alone: the man pinned.
  const std::set<CellId> per_measure = {man, {all, "sex", {"female"}}};
  const auto naive = AttackerRanges(AllCells(counts), per_measure, relations).value();
  ASSERT_TRUE(naive.at(man).high.has_value());
  EXPECT_EQ(naive.at(man).low, *naive.at(man).high);

  const Period january = ParsePeriod("2025-01").value();
  const auto r = ApplyDisclosureControl(counts, january, {}, {}).value();
  EXPECT_TRUE(r.exposed.empty());
  EXPECT_GT(r.masked.size(), per_measure.size());
  const auto ranges = AttackerRanges(AllCells(counts), r.masked, relations).value();
  for (const auto& [cell, range] : ranges) {
    const bool pinned = range.high && range.low == *range.high;
    EXPECT_FALSE(pinned) << cell.measure << " " << cell.stratifier;
  }
  bool says_why = false;
  for (const auto& d : r.decisions) {
    says_why |= d.reason.find("inside that of") != std::string::npos;
  }
  EXPECT_TRUE(says_why);
}

}  // namespace
}  // namespace eds::aggregate
