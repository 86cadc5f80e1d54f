#include "aggregate/release.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"

namespace eds::aggregate {
namespace {

using nlohmann::json;

constexpr std::string_view kIndexId = "release-index";
constexpr ReleaseState kAll[] = {ReleaseState::kComputed,  ReleaseState::kChecked,
                                 ReleaseState::kApproved,  ReleaseState::kRejected,
                                 ReleaseState::kSigned,    ReleaseState::kQueued,
                                 ReleaseState::kDelivered, ReleaseState::kFailed};

std::string RecordId(const std::string& id) { return "release/" + id; }

// States whose counts have left the box or may still leave: later releases must not be
// differenced against them.
bool Released(ReleaseState s) {
  return s == ReleaseState::kApproved || s == ReleaseState::kSigned || s == ReleaseState::kQueued ||
         s == ReleaseState::kDelivered || s == ReleaseState::kFailed;
}

json CellJson(const CellId& c) {
  return {{"measure", c.measure}, {"stratifier", c.stratifier}, {"values", c.values}};
}

json ToJson(const Release& r) {
  json decisions = json::array();
  for (const auto& d : r.decisions) {
    decisions.push_back({{"cell", CellJson(d.cell)}, {"rule", d.rule}, {"reason", d.reason}});
  }
  json history = json::array();
  for (const auto& t : r.history) {
    history.push_back(
        {{"state", StateName(t.state)}, {"at", t.at}, {"actor", t.actor}, {"comment", t.comment}});
  }
  return {{"id", r.id},
          {"period", r.period},
          {"packs", r.packs},
          {"state", StateName(r.state)},
          {"bundle", r.bundle},
          {"k", r.k},
          {"rounding_base", r.noise.rounding_base},
          {"cell_key", r.noise.cell_key},
          {"disclosure", decisions},
          {"history", history}};
}

Result<Release> FromJson(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("release record is corrupt");
  try {
    Release r;
    r.id = j.at("id");
    r.period = j.at("period");
    r.packs = j.at("packs").get<std::vector<std::string>>();
    const auto state = ParseState(j.at("state").get<std::string>());
    if (!state) return DataLossError("release record has an unknown state");
    r.state = *state;
    r.bundle = j.at("bundle");
    r.k = j.at("k");
    r.noise.rounding_base = j.value("rounding_base", uint64_t{0});
    r.noise.cell_key = j.value("cell_key", false);
    for (const auto& d : j.at("disclosure")) {
      r.decisions.push_back({{d.at("cell").at("measure"), d.at("cell").at("stratifier"),
                              d.at("cell").at("values").get<std::vector<std::string>>()},
                             d.at("rule"),
                             d.at("reason")});
    }
    for (const auto& t : j.at("history")) {
      const auto s = ParseState(t.at("state").get<std::string>());
      if (!s) return DataLossError("release record has an unknown state");
      r.history.push_back({*s, t.at("at"), t.at("actor"), t.at("comment")});
    }
    return r;
  } catch (const json::exception&) {
    return DataLossError("release record is corrupt");
  }
}

std::optional<uint64_t> ShownCount(const json& population) {
  if (population.contains("count") && population["count"].is_number_unsigned()) {
    return population["count"].get<uint64_t>();
  }
  return std::nullopt;
}

}  // namespace

std::string_view StateName(ReleaseState s) {
  switch (s) {
    case ReleaseState::kComputed:
      return "computed";
    case ReleaseState::kChecked:
      return "checked";
    case ReleaseState::kApproved:
      return "approved";
    case ReleaseState::kRejected:
      return "rejected";
    case ReleaseState::kSigned:
      return "signed";
    case ReleaseState::kQueued:
      return "queued";
    case ReleaseState::kDelivered:
      return "delivered";
    case ReleaseState::kFailed:
      return "failed";
  }
  return "";
}

std::optional<ReleaseState> ParseState(std::string_view name) {
  for (ReleaseState s : kAll) {
    if (StateName(s) == name) return s;
  }
  return std::nullopt;
}

bool TransitionAllowed(ReleaseState from, ReleaseState to) {
  using S = ReleaseState;
  switch (from) {
    case S::kComputed:
      return to == S::kChecked || to == S::kRejected;
    case S::kChecked:
      return to == S::kApproved || to == S::kRejected;
    case S::kApproved:
      return to == S::kSigned;
    case S::kSigned:
      return to == S::kQueued;
    case S::kQueued:
      return to == S::kDelivered || to == S::kFailed;
    case S::kFailed:  // retried: it goes out on a later attempt, or is queued again by hand
      return to == S::kQueued || to == S::kDelivered;
    case S::kRejected:
    case S::kDelivered:
      return false;
  }
  return false;
}

Result<ShownCells> CellsOfBundle(const std::string& bundle) {
  const json doc = json::parse(bundle, nullptr, false);
  if (doc.is_discarded() || doc.value("resourceType", "") != "Bundle") {
    return InvalidArgumentError("not a FHIR Bundle");
  }
  ShownCells out;
  try {
    for (const auto& e : doc.at("entry")) {
      const json& report = e.at("resource");
      const std::string measure = report.at("measure");
      const json& group = report.at("group").at(0);
      out[{measure, "", {}}] = ShownCount(group.at("population").at(0));
      for (const auto& s : group.value("stratifier", json::array())) {
        const std::string id = s.at("id");
        for (const auto& stratum : s.at("stratum")) {
          std::vector<std::string> values;
          if (stratum.contains("value")) {
            values.push_back(stratum["value"].at("text"));
          } else {
            for (const auto& c : stratum.at("component"))
              values.push_back(c.at("value").at("text"));
          }
          out[{measure, id, values}] = ShownCount(stratum.at("population").at(0));
        }
      }
    }
  } catch (const json::exception& ex) {
    return InvalidArgumentError(std::string("not a release Bundle: ") + ex.what());
  }
  return out;
}

Status CheckReleaseBytes(const std::string& bundle, const std::vector<MeasurePack>& packs,
                         uint64_t k, uint64_t tolerance) {
  if (k < kMinimumK) return FailedPreconditionError("k is below the minimum");
  auto shown = CellsOfBundle(bundle);
  if (!shown.ok()) return FailedPreconditionError(shown.status().message());
  std::set<CellId> masked;
  for (const auto& [c, n] : *shown) {
    if (!n) {
      masked.insert(c);
    } else if (*n > 0 && *n < k) {
      return FailedPreconditionError("cell " + c.measure + " " + c.stratifier +
                                     " shows a count below " + std::to_string(k));
    }
  }
  // Rebuild the counts the packs define from what the bytes show, to solve as an attacker.
  std::vector<MeasureCounts> counts;
  for (const auto& pack : packs) {
    for (const auto& m : pack.measures) {
      const std::string key = MeasureKey(m);
      const auto total = shown->find({key, "", {}});
      if (total == shown->end()) continue;  // a pack not part of this release
      MeasureCounts mc;
      mc.pack = &pack;
      mc.measure = &m;
      mc.population = total->second.value_or(0);
      for (const auto& s : m.stratifiers) mc.stratifiers.push_back({&s, {}, {}});
      counts.push_back(std::move(mc));
    }
  }
  for (const auto& [c, n] : *shown) {
    if (c.stratifier.empty()) continue;
    bool placed = false;
    for (auto& mc : counts) {
      if (MeasureKey(*mc.measure) != c.measure) continue;
      for (auto& s : mc.stratifiers) {
        if (s.stratifier->id != c.stratifier) continue;
        if (c.values.size() != s.stratifier->components.size()) break;
        s.cells[c.values] = n.value_or(0);
        placed = true;
      }
    }
    if (!placed) {
      return FailedPreconditionError("cell of " + c.measure + " stratifier " + c.stratifier +
                                     " is not defined by the enabled packs");
    }
  }
  std::set<std::string> measures;
  for (const auto& [c, n] : *shown) measures.insert(c.measure);
  if (measures.size() != counts.size()) {
    return FailedPreconditionError("the Bundle holds a measure the enabled packs do not define");
  }
  auto ranges = AttackerRanges(AllCells(counts), masked, RelationsOf(counts), tolerance);
  if (!ranges.ok()) return FailedPreconditionError(ranges.status().message());
  for (const auto& [c, range] : *ranges) {
    if (range.high && range.low == *range.high) {
      return FailedPreconditionError("a masked cell of " + c.measure + " " + c.stratifier +
                                     " can be recomputed from the shown counts");
    }
  }
  return OkStatus();
}

Status ReleaseBook::Save(const Release& r, const std::string& action,
                         const std::vector<storage::OutboxWrite>& outbox) {
  // The index lists every release with its state, for listing without reading each one.
  json index = json::array();
  auto existing = store_.Exists("", kIndexId);
  if (!existing.ok()) return existing.status();
  if (*existing) {
    EDS_ASSIGN_OR_RETURN(std::string text,
                         store_.Read("", kIndexId, {"system", "release.index", "", ""}));
    index = json::parse(text, nullptr, false);
    if (!index.is_array()) return DataLossError("release index is corrupt");
  }
  const std::string updated = r.history.empty() ? "" : r.history.back().at;
  bool found = false;
  for (auto& e : index) {
    if (e.value("id", "") == r.id) {
      e = {{"id", r.id}, {"period", r.period}, {"state", StateName(r.state)}, {"updated", updated}};
      found = true;
    }
  }
  if (!found) {
    index.push_back(
        {{"id", r.id}, {"period", r.period}, {"state", StateName(r.state)}, {"updated", updated}});
  }
  const std::string actor = r.history.empty() ? "system" : r.history.back().actor;
  EDS_RETURN_IF_ERROR(store_.Write(
      {{"", RecordId(r.id), ToJson(r).dump()}, {"", std::string(kIndexId), index.dump()}},
      {actor, action, "release " + r.id, std::string(StateName(r.state))}, {}, outbox));
  MutexLock lock(list_mu_);
  list_.reset();  // read again, once, by the next List()
  return OkStatus();
}

Result<std::vector<ReleaseSummary>> ReleaseBook::List() {
  // Dashboards ask often; the index changes only through Save(), which drops this copy.
  MutexLock lock(list_mu_);
  if (!list_) {
    EDS_ASSIGN_OR_RETURN(auto read, ReadList());
    list_ = std::move(read);
  }
  return *list_;
}

Result<std::vector<ReleaseSummary>> ReleaseBook::ReadList() {
  std::vector<ReleaseSummary> out;
  EDS_ASSIGN_OR_RETURN(bool exists, store_.Exists("", kIndexId));
  if (!exists) return out;
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store_.Read("", kIndexId, {"system", "release.list", "", ""}));
  const json index = json::parse(text, nullptr, false);
  if (!index.is_array()) return DataLossError("release index is corrupt");
  for (const auto& e : index) {
    const auto state = ParseState(e.value("state", ""));
    if (!state) return DataLossError("release index has an unknown state");
    out.push_back({e.value("id", ""), e.value("period", ""), *state, e.value("updated", "")});
  }
  return out;
}

Result<Release> ReleaseBook::Get(const std::string& id) {
  auto text = store_.Read("", RecordId(id), {"system", "release.read", id, ""});
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return NotFoundError("no release " + id);
    return text.status();
  }
  return FromJson(*text);
}

Result<std::vector<PastRelease>> ReleaseBook::PastReleases(const std::set<std::string>& measures) {
  std::vector<PastRelease> out;
  EDS_ASSIGN_OR_RETURN(auto list, List());
  for (const auto& summary : list) {
    if (!Released(summary.state)) continue;
    EDS_ASSIGN_OR_RETURN(Release r, Get(summary.id));
    auto period = ParsePeriod(r.period);
    if (!period.ok()) return DataLossError("release " + r.id + " has a bad period");
    EDS_ASSIGN_OR_RETURN(ShownCells shown, CellsOfBundle(r.bundle));
    PastRelease p{r.period, period->first_day, period->last_day, {}};
    for (const auto& [c, n] : shown) {
      if (n && measures.count(c.measure) != 0) p.counts[c] = *n;
    }
    out.push_back(std::move(p));
  }
  return out;
}

Status ReleaseBook::MoveLocked(Release& r, ReleaseState to, const std::string& actor,
                               const std::string& comment,
                               const std::vector<storage::OutboxWrite>& outbox) {
  if (!TransitionAllowed(r.state, to)) {
    return FailedPreconditionError("release " + r.id + " is " + std::string(StateName(r.state)) +
                                   ": it cannot become " + std::string(StateName(to)));
  }
  r.state = to;
  r.history.push_back({to, FormatRfc3339(clock_.Now()), actor, comment});
  return Save(r, "release." + std::string(StateName(to)), outbox);
}

ReleaseBook::~ReleaseBook() { DropFacts(); }

void ReleaseBook::DropFacts() {
  MutexLock lock(mu_);
  if (!watching_) return;
  store_.UnwatchFacts(&facts_);
  facts_.Clear();
  watching_ = false;
}

Result<Release> ReleaseBook::Compute(const std::vector<MeasurePack>& packs,
                                     const std::string& period_label,
                                     const std::set<uint64_t>& excluded,
                                     const ReleaseOptions& options, const std::string& actor) {
  if (options.k < kMinimumK) {
    return InvalidArgumentError("k must be at least " + std::to_string(kMinimumK));
  }
  if (packs.empty()) return FailedPreconditionError("no measure pack is enabled");
  EDS_ASSIGN_OR_RETURN(Period period, ParsePeriod(period_label));
  MutexLock lock(mu_);
  std::optional<storage::SecretKey> cell_key_secret;
  if (options.noise.cell_key) {
    EDS_ASSIGN_OR_RETURN(storage::SecretKey secret, store_.Secret("cell-key"));
    cell_key_secret.emplace(std::move(secret));
  }
  if (!watching_) {
    EDS_RETURN_IF_ERROR(store_.WatchFacts(&facts_, {"system", "facts.load", "", ""}));
    facts_.ShrinkToFit();
    watching_ = true;
  }
  EDS_RETURN_IF_ERROR(store_.Audit({"system", "aggregate.compute", period.label, ""}));
  EDS_ASSIGN_OR_RETURN(auto counts, facts_.Read([&](const FactTable& table) {
    return ComputeMeasures(table, packs, period, excluded, nullptr,
                           cell_key_secret ? &*cell_key_secret : nullptr);
  }));
  std::set<std::string> measures;
  for (const auto& m : counts) measures.insert(MeasureKey(*m.measure));
  EDS_ASSIGN_OR_RETURN(auto past, PastReleases(measures));
  EDS_ASSIGN_OR_RETURN(DisclosureResult disclosure,
                       ApplyDisclosureControl(counts, period, past, {options.k}));

  EDS_ASSIGN_OR_RETURN(auto list, List());
  size_t same_period = 0;
  for (const auto& s : list) same_period += s.period == period.label;
  Release r;
  r.id = period.label + "." + std::to_string(same_period + 1);
  r.period = period.label;
  for (const auto& p : packs) r.packs.push_back(p.id + "@" + p.version);
  r.k = options.k;
  r.decisions = std::move(disclosure.decisions);
  const std::string now = FormatRfc3339(clock_.Now());
  r.noise = options.noise;
  // Noise, when asked for, goes on the released cells only: masked ones show no count at all.
  std::map<CellId, uint64_t> shown;
  if (r.noise.cell_key || r.noise.rounding_base > 1) {
    for (const auto& m : counts) {
      const std::string key = MeasureKey(*m.measure);
      shown[{key, "", {}}] = ShownCount(m.population, m.population_key, r.k, r.noise);
      for (const auto& st : m.stratifiers) {
        for (const auto& [values, count] : st.cells) {
          const auto k = st.keys.find(values);
          shown[{key, st.stratifier->id, values}] =
              ShownCount(count, k == st.keys.end() ? 0 : k->second, r.k, r.noise);
        }
      }
    }
  }
  r.bundle = ReleaseBundleJson(counts, period, disclosure.masked, {r.id, options.reporter, now},
                               shown.empty() ? nullptr : &shown);
  r.history.push_back({ReleaseState::kComputed, now, actor, ""});
  EDS_RETURN_IF_ERROR(Save(r, "release.computed"));
  const Status check = disclosure.exposed.empty()
                           ? CheckReleaseBytes(r.bundle, packs, r.k, Tolerance(r.noise))
                           : FailedPreconditionError("a masked cell cannot be protected");
  if (!check.ok()) {
    // It stays computed: it can be rejected, never approved.
    r.history.back().comment = "check failed: " + std::string(check.message());
    EDS_RETURN_IF_ERROR(Save(r, "release.check-failed"));
    return r;
  }
  EDS_RETURN_IF_ERROR(MoveLocked(r, ReleaseState::kChecked, "system", "disclosure checks passed"));
  return r;
}

Status ReleaseBook::Approve(const std::string& id, const std::vector<MeasurePack>& packs,
                            const std::string& reviewer, const std::string& comment) {
  if (reviewer.empty() || comment.empty()) {
    return InvalidArgumentError("approval needs a reviewer and a comment");
  }
  MutexLock lock(mu_);
  EDS_ASSIGN_OR_RETURN(Release r, Get(id));
  if (r.state != ReleaseState::kChecked) {
    return FailedPreconditionError("release " + id + " is " + std::string(StateName(r.state)) +
                                   ": only a checked release can be approved");
  }
  std::vector<MeasurePack> used;
  for (const auto& p : packs) {
    if (std::find(r.packs.begin(), r.packs.end(), p.id + "@" + p.version) != r.packs.end()) {
      used.push_back(p);
    }
  }
  if (used.size() != r.packs.size()) {
    return FailedPreconditionError("a pack of release " + id + " is no longer enabled");
  }
  EDS_RETURN_IF_ERROR(CheckReleaseBytes(r.bundle, used, r.k, Tolerance(r.noise)));
  return MoveLocked(r, ReleaseState::kApproved, reviewer, comment);
}

Status ReleaseBook::Reject(const std::string& id, const std::string& reviewer,
                           const std::string& comment) {
  if (reviewer.empty() || comment.empty()) {
    return InvalidArgumentError("rejection needs a reviewer and a comment");
  }
  MutexLock lock(mu_);
  EDS_ASSIGN_OR_RETURN(Release r, Get(id));
  return MoveLocked(r, ReleaseState::kRejected, reviewer, comment);
}

Status ReleaseBook::Advance(const std::string& id, ReleaseState to, const std::string& actor,
                            const std::string& comment,
                            const std::vector<storage::OutboxWrite>& outbox) {
  if (to == ReleaseState::kApproved || to == ReleaseState::kRejected) {
    return InvalidArgumentError("approval and rejection go through Approve and Reject");
  }
  MutexLock lock(mu_);
  EDS_ASSIGN_OR_RETURN(Release r, Get(id));
  return MoveLocked(r, to, actor, comment, outbox);
}

}  // namespace eds::aggregate
