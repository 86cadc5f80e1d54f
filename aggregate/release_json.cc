#include "aggregate/release_json.h"

namespace eds::aggregate {

nlohmann::json ReleaseListEntryJson(const ReleaseSummary& s) {
  return {
      {"id", s.id}, {"period", s.period}, {"state", StateName(s.state)}, {"updated", s.updated}};
}

nlohmann::json ReleaseSummaryJson(const Release& r) {
  return {{"id", r.id},
          {"period", r.period},
          {"state", StateName(r.state)},
          {"packs", r.packs},
          {"k", r.k}};
}

nlohmann::json ReleaseReviewJson(const Release& r) {
  nlohmann::json out = ReleaseSummaryJson(r);
  nlohmann::json disclosure = nlohmann::json::array();
  for (const auto& d : r.decisions) {
    disclosure.push_back({{"measure", d.cell.measure},
                          {"stratifier", d.cell.stratifier},
                          {"values", d.cell.values},
                          {"rule", d.rule},
                          {"reason", d.reason}});
  }
  nlohmann::json history = nlohmann::json::array();
  for (const auto& t : r.history) {
    history.push_back(
        {{"state", StateName(t.state)}, {"at", t.at}, {"actor", t.actor}, {"comment", t.comment}});
  }
  out["disclosure"] = std::move(disclosure);
  out["history"] = std::move(history);
  return out;
}

}  // namespace eds::aggregate
