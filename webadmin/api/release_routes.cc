// Releases: the list, a release as tables of its MeasureReports with the masked cells and why,
// computing one, and the reviewer's approval or rejection.
#include <map>
#include <set>

#include "aggregate/release_json.h"
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {
namespace {

std::set<uint64_t> ExcludedPatients(State& state) {
  std::set<uint64_t> out;
  if (state.ctx.objections == nullptr) return out;
  for (const auto& pseudonym : state.ctx.objections->Pseudonyms()) {
    auto no = state.ctx.store->PatientNumber(pseudonym);
    if (no.ok()) out.insert(*no);
  }
  return out;
}

// One table per measure: its total, then a row per stratum of each stratifier. A masked cell has
// count null and the disclosure rule and reason that masked it.
json Tables(const aggregate::Release& r) {
  std::map<aggregate::CellId, const aggregate::Decision*> why;
  for (const auto& d : r.decisions) why[d.cell] = &d;
  auto cells = aggregate::CellsOfBundle(r.bundle);
  json tables = json::array();
  if (!cells.ok()) return tables;
  std::map<std::string, json> by_measure;
  for (const auto& [cell, count] : *cells) {
    json row = {{"stratifier", cell.stratifier},
                {"values", cell.values},
                {"count", count ? json(*count) : json(nullptr)},
                {"masked", !count.has_value()}};
    if (auto it = why.find(cell); it != why.end()) {
      row["rule"] = it->second->rule;
      row["reason"] = it->second->reason;
    }
    json& table = by_measure[cell.measure];
    if (table.is_null()) table = {{"measure", cell.measure}, {"rows", json::array()}};
    table["rows"].push_back(std::move(row));
  }
  for (auto& [measure, table] : by_measure) tables.push_back(std::move(table));
  return tables;
}

}  // namespace

HttpResponse ListReleases(State& state, Call& call) {
  if (state.ctx.releases == nullptr) return HttpResponse::JsonError(503, "no release book");
  const std::string want = QueryParam(call.request.query, "state");
  if (!want.empty() && !aggregate::ParseState(want)) {
    return HttpResponse::JsonError(400, "unknown state '" + want + "'");
  }
  auto list = state.ctx.releases->List();
  if (!list.ok()) return ErrorResponse(list.status());
  json out = json::array();
  for (const auto& s : *list) {
    if (!want.empty() && aggregate::StateName(s.state) != want) continue;
    out.push_back(aggregate::ReleaseListEntryJson(s));
  }
  return Ok({{"releases", out}});
}

HttpResponse ComputeRelease(State& state, Call& call) {
  const auto packs = state.ctx.packs ? state.ctx.packs() : nullptr;
  if (state.ctx.releases == nullptr || packs == nullptr) {
    return HttpResponse::JsonError(503, "no release book");
  }
  auto r = state.ctx.releases->Compute(*packs, Field(call, "period"), ExcludedPatients(state),
                                       state.ctx.release_options, call.actor());
  if (!r.ok()) return ErrorResponse(r.status());
  return HttpResponse::Json(201, aggregate::ReleaseSummaryJson(*r));
}

HttpResponse GetRelease(State& state, Call& call) {
  if (state.ctx.releases == nullptr) return HttpResponse::JsonError(503, "no release book");
  auto r = state.ctx.releases->Get(call.params.at(0));
  if (!r.ok()) return ErrorResponse(r.status());
  state.ctx.store->Audit({call.actor(), "release.view", r->id, ""}).IgnoreError();
  json out = aggregate::ReleaseReviewJson(*r);
  out["tables"] = Tables(*r);
  return Ok(out);
}

HttpResponse ApproveRelease(State& state, Call& call) {
  const auto packs = state.ctx.packs ? state.ctx.packs() : nullptr;
  if (state.ctx.releases == nullptr || packs == nullptr) {
    return HttpResponse::JsonError(503, "no release book");
  }
  const Status s =
      state.ctx.releases->Approve(call.params.at(0), *packs, call.actor(), Field(call, "comment"));
  if (!s.ok()) return ErrorResponse(s);
  return Ok();
}

HttpResponse RejectRelease(State& state, Call& call) {
  if (state.ctx.releases == nullptr) return HttpResponse::JsonError(503, "no release book");
  const Status s =
      state.ctx.releases->Reject(call.params.at(0), call.actor(), Field(call, "comment"));
  if (!s.ok()) return ErrorResponse(s);
  return Ok();
}

}  // namespace eds::webadmin::internal
