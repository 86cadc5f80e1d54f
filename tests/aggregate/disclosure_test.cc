// Disclosure control: each rule on hand-made tables with known answers, and an attacker who
// gathers every released count of several releases and solves for each masked cell exactly.
#include "aggregate/disclosure.h"

#include <glpk.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "aggregate/measure_report.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::aggregate {
namespace {

using ::eds::testing::StatusIs;
using ingest::DayOf;
using ingest::Fact;
using ingest::FactType;
using Cells = std::map<std::vector<std::string>, uint64_t>;

MeasurePack Pack(const std::string& measures_json) {
  auto pack = ParseMeasurePack(R"({"pack":"t","version":"1","title":"t","measures":)" +
                               measures_json + "}");
  EXPECT_TRUE(pack.ok()) << pack.status().ToString();
  return pack.ok() ? *pack : MeasurePack{};
}

// Counts made by hand for the first measure of `pack`: one map of cells per stratifier.
MeasureCounts Counts(const MeasurePack& pack, uint64_t total, std::vector<Cells> strata) {
  MeasureCounts m;
  m.pack = &pack;
  m.measure = &pack.measures[0];
  m.population = total;
  for (size_t i = 0; i < strata.size(); ++i) {
    m.stratifiers.push_back({&pack.measures[0].stratifiers[i], std::move(strata[i]), {}});
  }
  return m;
}

CellId Cell(const MeasurePack& pack, const std::string& stratifier,
            std::vector<std::string> values = {}) {
  return {MeasureKey(pack.measures[0]), stratifier, std::move(values)};
}

const Period kJanuary = ParsePeriod("2025-01").value();

TEST(DisclosureTest, KBelowFiveIsRefused) {
  EXPECT_THAT(ApplyDisclosureControl({}, kJanuary, {}, {4}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(ApplyDisclosureControl({}, kJanuary, {}, {5}).ok());
}

TEST(DisclosureTest, ASmallStratumAndTheOneThatWouldGiveItAwayAreMasked) {
  const MeasurePack pack = Pack(R"([{"url":"urn:m","version":"1","title":"m","count":"patients",
    "population":{"resource":"Condition"},"stratifiers":[{"id":"sex","components":["sex"]}]}])");
  const auto r = ApplyDisclosureControl({Counts(pack, 30, {{{{"female"}, 27}, {{"male"}, 3}}})},
                                        kJanuary, {}, {})
                     .value();
  EXPECT_EQ(r.masked,
            (std::set<CellId>{Cell(pack, "sex", {"female"}), Cell(pack, "sex", {"male"})}));
  ASSERT_EQ(r.decisions.size(), 2u);
  EXPECT_EQ(r.decisions[0].cell, Cell(pack, "sex", {"male"}));
  EXPECT_EQ(r.decisions[0].rule, "primary");
  EXPECT_EQ(r.decisions[1].cell, Cell(pack, "sex", {"female"}));
  EXPECT_EQ(r.decisions[1].rule, "secondary");
  EXPECT_TRUE(r.exposed.empty());
}

TEST(DisclosureTest, LargeCellsAndZerosStayAndASmallTotalHidesItsOnlyStratum) {
  const MeasurePack pack = Pack(R"([{"url":"urn:m","version":"1","title":"m","count":"events",
    "population":{"resource":"Encounter"},"stratifiers":[{"id":"sex","components":["sex"]}]}])");
  auto r = ApplyDisclosureControl({Counts(pack, 40, {{{{"female"}, 25}, {{"male"}, 15}}})},
                                  kJanuary, {}, {});
  EXPECT_TRUE(r->masked.empty());
  r = ApplyDisclosureControl({Counts(pack, 0, {{}})}, kJanuary, {}, {});
  EXPECT_TRUE(r->masked.empty());
  r = ApplyDisclosureControl({Counts(pack, 7, {{{{"female"}, 7}}})}, kJanuary, {}, {});
  EXPECT_EQ(r->masked, (std::set<CellId>{Cell(pack, ""), Cell(pack, "sex", {"female"})}));
}

TEST(DisclosureTest, MarginsOfATwoWayTableAreProtected) {
  const MeasurePack pack = Pack(R"([{"url":"urn:m","version":"1","title":"m","count":"events",
    "age_bands":[0,18,65],"population":{"resource":"Encounter"},"stratifiers":[
    {"id":"age-sex","components":["age-band","sex"]},{"id":"age","components":["age-band"]},
    {"id":"sex","components":["sex"]}]}])");
  const MeasureCounts m = Counts(pack, 120,
                                 {{{{"0-17", "female"}, 20},
                                   {{"0-17", "male"}, 2},
                                   {{"18-64", "female"}, 30},
                                   {{"18-64", "male"}, 28},
                                   {{"65+", "female"}, 25},
                                   {{"65+", "male"}, 15}},
                                  {{{"0-17"}, 22}, {{"18-64"}, 58}, {{"65+"}, 40}},
                                  {{{"female"}, 75}, {{"male"}, 45}}});
  const auto r = ApplyDisclosureControl({m}, kJanuary, {}, {}).value();
  EXPECT_EQ(r.masked.count(Cell(pack, "age-sex", {"0-17", "male"})), 1u);
  // The row (0-17) and the column (male) each need a second masked cell.
  EXPECT_EQ(r.masked.count(Cell(pack, "age-sex", {"0-17", "female"})), 1u);
  EXPECT_GE(r.masked.size(), 4u);
  const auto ranges = AttackerRanges(AllCells({m}), r.masked, RelationsOf({m})).value();
  for (const auto& [c, range] : ranges) {
    ASSERT_TRUE(range.high.has_value());
    EXPECT_LT(range.low, *range.high) << c.stratifier;
  }
  EXPECT_TRUE(r.exposed.empty());
}

TEST(DisclosureTest, ACumulativeCountCloseToTheLastReleasedOneIsMasked) {
  const MeasurePack pack = Pack(R"([{"url":"urn:m","version":"1","title":"m","count":"patients",
    "population":{"resource":"Condition","start_offset_days":-3650},
    "stratifiers":[{"id":"sex","components":["sex"]}]}])");
  // Last week's window (ten years up to its end) lies inside this month's.
  PastRelease week;
  week.period = "2025-W04";
  const Period w4 = ParsePeriod("2025-W04").value();
  week.first_day = w4.first_day + 0;
  week.last_day = w4.last_day;
  week.counts = {
      {Cell(pack, ""), 60}, {Cell(pack, "sex", {"female"}), 40}, {Cell(pack, "sex", {"male"}), 20}};
  const auto r = ApplyDisclosureControl({Counts(pack, 63, {{{{"female"}, 40}, {{"male"}, 23}}})},
                                        kJanuary, {week}, {})
                     .value();
  // The total grew by 3 and male by 3: either would reveal the 3 new patients. Female did not
  // change and stays: with two unknowns in total = female + male, neither is pinned.
  EXPECT_EQ(r.masked, (std::set<CellId>{Cell(pack, ""), Cell(pack, "sex", {"male"})}));
  bool differencing = false;
  for (const auto& d : r.decisions) differencing |= d.rule == "differencing";
  EXPECT_TRUE(differencing);
  // A window that does not nest (the same length, shifted) is no differencing risk.
  PastRelease december = week;
  december.period = "2024-12";
  const Period dec = ParsePeriod("2024-12").value();
  december.first_day = dec.first_day;
  december.last_day = dec.last_day;
  const auto r2 = ApplyDisclosureControl({Counts(pack, 63, {{{{"female"}, 40}, {{"male"}, 23}}})},
                                         kJanuary, {december}, {})
                      .value();
  EXPECT_TRUE(r2.masked.empty());
}

// ---- The attacker ------------------------------------------------------------------------

// A cell as the attacker reads it from a MeasureReport Bundle.
struct Seen {
  std::string release, measure, stratifier, key;
  std::optional<uint64_t> count;
};

// Every population count of every report of `bundle`: key "" for the total.
std::vector<Seen> Read(const std::string& release, const std::string& bundle) {
  std::vector<Seen> out;
  const auto count = [](const nlohmann::json& pop) -> std::optional<uint64_t> {
    if (pop.contains("count")) return pop["count"].get<uint64_t>();
    EXPECT_EQ(pop["_count"]["extension"][0]["valueCode"], "masked");
    return std::nullopt;
  };
  const auto doc = nlohmann::json::parse(bundle);
  for (const auto& e : doc["entry"]) {
    const auto& report = e["resource"];
    const std::string measure = report["measure"];
    const auto& group = report["group"][0];
    out.push_back({release, measure, "", "", count(group["population"][0])});
    for (const auto& s : group.value("stratifier", nlohmann::json::array())) {
      for (const auto& stratum : s["stratum"]) {
        std::string key;
        if (stratum.contains("value")) {
          key = stratum["value"]["text"];
        } else {
          for (const auto& c : stratum["component"]) {
            key += std::string(c["value"]["text"]) + "|";
          }
        }
        out.push_back({release, measure, s["id"], key, count(stratum["population"][0])});
      }
    }
  }
  return out;
}

// Solves, over all releases together, for each masked cell whose true value is under k: the
// integer range consistent with the released counts, each release's structure (the strata of a
// stratifier add up to the total for event counts; each is at most the total and they cover it
// for patient counts) and the nesting of windows (a cell of a nested window is at most the same
// cell of the larger one). Returns the masked cells it pins to one value.
void Attack(const std::vector<Seen>& seen, const std::map<std::string, uint64_t>& truth,
            const std::vector<std::pair<std::string, std::string>>& nested, bool events,
            std::vector<std::string>* pinned) {
  glp_term_out(GLP_OFF);
  glp_prob* p = glp_create_prob();
  std::map<std::string, int> col;
  auto id = [](const Seen& s) { return s.release + "/" + s.stratifier + "/" + s.key; };
  for (const auto& s : seen) {
    const int c = glp_add_cols(p, 1);
    col[id(s)] = c;
    glp_set_col_kind(p, c, GLP_IV);
    if (s.count) {
      glp_set_col_bnds(p, c, GLP_FX, double(*s.count), double(*s.count));
    } else {
      glp_set_col_bnds(p, c, GLP_LO, 1, 0);
    }
  }
  auto row = [&](std::vector<std::pair<int, double>> terms, int type) {
    const int r = glp_add_rows(p, 1);
    glp_set_row_bnds(p, r, type, 0, 0);
    std::vector<int> ix = {0};
    std::vector<double> v = {0};
    for (auto& [c, x] : terms) {
      ix.push_back(c);
      v.push_back(x);
    }
    glp_set_mat_row(p, r, int(terms.size()), ix.data(), v.data());
  };
  std::map<std::pair<std::string, std::string>, std::vector<int>> strata;  // release, stratifier
  for (const auto& s : seen) {
    if (!s.stratifier.empty()) strata[{s.release, s.stratifier}].push_back(col[id(s)]);
  }
  for (const auto& [rs, cols] : strata) {
    const int total = col[rs.first + "//"];
    std::vector<std::pair<int, double>> terms = {{total, -1}};
    for (int c : cols) {
      terms.emplace_back(c, 1);
      if (!events) row({{total, 1}, {c, -1}}, GLP_LO);
    }
    row(terms, events ? GLP_FX : GLP_LO);
  }
  // The two-way table's margins: summing the sexes of an age band gives the band (a patient
  // has one sex); summing the bands of a sex gives at least the sex's count (a patient can
  // change band within the period), exactly for event counts.
  std::map<std::string, std::vector<int>> by_age, by_sex;
  for (const auto& s : seen) {
    if (s.stratifier != "age-sex") continue;
    const size_t bar = s.key.find('|');
    by_age[s.release + "/age/" + s.key.substr(0, bar)].push_back(col[id(s)]);
    by_sex[s.release + "/sex/" + s.key.substr(bar + 1, s.key.size() - bar - 2)].push_back(
        col[id(s)]);
  }
  for (const auto* margins : {&by_age, &by_sex}) {
    const bool exact = events || margins == &by_age;
    for (const auto& [margin, cols] : *margins) {
      ASSERT_EQ(col.count(margin), 1u) << margin;
      std::vector<std::pair<int, double>> terms = {{col[margin], -1}};
      for (int c : cols) {
        terms.emplace_back(c, 1);
        if (!exact) row({{col[margin], 1}, {c, -1}}, GLP_LO);
      }
      row(terms, exact ? GLP_FX : GLP_LO);
    }
  }
  for (const auto& [small, big] : nested) {
    for (const auto& s : seen) {
      if (s.release != small) continue;
      const auto other = col.find(big + "/" + s.stratifier + "/" + s.key);
      if (other != col.end()) row({{other->second, 1}, {col[id(s)], -1}}, GLP_LO);
    }
  }
  for (const auto& s : seen) {
    if (s.count || truth.at(id(s)) >= kDefaultK) continue;
    double bounds[2];
    for (int dir : {GLP_MIN, GLP_MAX}) {
      for (int j = 1; j <= glp_get_num_cols(p); ++j) glp_set_obj_coef(p, j, j == col[id(s)]);
      glp_set_obj_dir(p, dir);
      glp_smcp lp;
      glp_init_smcp(&lp);
      glp_simplex(p, &lp);
      if (glp_get_status(p) == GLP_UNBND) {
        bounds[dir == GLP_MAX] = 1e18;
        continue;
      }
      EXPECT_EQ(glp_get_status(p), GLP_OPT);
      glp_iocp ip;
      glp_init_iocp(&ip);
      glp_intopt(p, &ip);
      bounds[dir == GLP_MAX] = glp_mip_obj_val(p);
    }
    if (bounds[0] == bounds[1]) pinned->push_back(id(s));
  }
  glp_delete_prob(p);
}

class AttackerTest : public ::testing::TestWithParam<int> {};

TEST_P(AttackerTest, NoMaskedCellIsPinnedAcrossAMonthAndItsWeeks) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  eds::testing::TempDir dir;
  storage::StoreOptions o;
  o.data_dir = dir.Sub("data");
  auto store = std::move(storage::Store::Open(o, storage::SecretKey::Random()).value());
  // 150 patients, few stays each: many small cells.
  for (int p = 0; p < 150; ++p) {
    std::vector<storage::RecordWrite> records;
    Fact patient;
    patient.type = FactType::kPatient;
    patient.sex = rng() % 2 ? ingest::Sex::kFemale : ingest::Sex::kMale;
    patient.day = DayOf("1930-01-15") + static_cast<int32_t>(rng() % 30000);
    records.push_back({"p" + std::to_string(p), "Patient/" + std::to_string(p), "{}",
                       ingest::EncodeFacts({patient})});
    for (int e = 0, n = static_cast<int>(rng() % 3); e < n; ++e) {
      Fact stay;
      stay.type = FactType::kEncounter;
      stay.encounter_class = std::vector<std::string>{"IMP", "EMER", "AMB"}[rng() % 3];
      stay.day = DayOf("2025-01-01") + static_cast<int32_t>(rng() % 31);
      records.push_back({"p" + std::to_string(p),
                         "E/" + std::to_string(p) + "-" + std::to_string(e), "{}",
                         ingest::EncodeFacts({stay})});
    }
    ASSERT_TRUE(store->Write(records, {"t", "w", "", ""}).ok());
  }
  for (const char* counting : {"events", "patients"}) {
    const MeasurePack pack = Pack(std::string(R"([{"url":"urn:m","version":"1","title":"m",
      "count":")") + counting + R"(","age_bands":[0,18,45,65,75],
      "population":{"resource":"Encounter"},"stratifiers":[
      {"id":"age-sex","components":["age-band","sex"]},{"id":"age","components":["age-band"]},
      {"id":"sex","components":["sex"]},{"id":"class","components":["encounter-class"]}]}])");
    const std::vector<MeasurePack> packs = {pack};  // the counts point into it
    const bool events = std::string(counting) == "events";
    std::vector<Seen> seen;
    std::map<std::string, uint64_t> truth;
    std::vector<PastRelease> past;
    std::vector<std::pair<std::string, std::string>> nested;
    for (const char* label : {"2025-W02", "2025-01", "2025-W03"}) {
      const Period period = ParsePeriod(label).value();
      auto counts = ComputeMeasures(*store, packs, period, {}).value();
      const auto r = ApplyDisclosureControl(counts, period, past, {}).value();
      EXPECT_TRUE(r.exposed.empty());
      for (const auto& s :
           Read(label, ReleaseBundleJson(counts, period, r.masked, {label, "h", "t"}))) {
        seen.push_back(s);
      }
      for (const auto& [c, n] : AllCells(counts)) {
        std::string key;
        if (c.values.size() == 1) key = c.values[0];
        if (c.values.size() > 1) {
          for (const auto& v : c.values) key += v + "|";
        }
        truth[std::string(label) + "/" + c.stratifier + "/" + key] = n;
      }
      PastRelease done{label, period.first_day, period.last_day, {}};
      for (const auto& [c, n] : AllCells(counts)) {
        if (r.masked.count(c) == 0) done.counts[c] = n;
      }
      past.push_back(std::move(done));
    }
    nested = {{"2025-W02", "2025-01"}, {"2025-W03", "2025-01"}};
    size_t masked = 0;
    for (const auto& s : seen) masked += !s.count;
    EXPECT_GT(masked, 0u) << "the data must have small cells for the attack to mean anything: "
                          << seen.size() << " cells, total " << seen[0].count.value_or(0);
    std::vector<std::string> pinned;
    Attack(seen, truth, nested, events, &pinned);
    EXPECT_EQ(pinned, std::vector<std::string>()) << counting;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, AttackerTest, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace eds::aggregate
