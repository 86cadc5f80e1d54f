#include "aggregate/measure_report.h"

#include <nlohmann/json.hpp>

namespace eds::aggregate {
namespace {

using nlohmann::json;

constexpr const char* kDataAbsentReason =
    "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
constexpr const char* kComponentSystem = "https://eds-node.fr/fhir/CodeSystem/stratifier-component";

// A population element: its count, or the masked marker in place of it.
json Population(uint64_t count, bool masked) {
  json coding = {{"system", "http://terminology.hl7.org/CodeSystem/measure-population"},
                 {"code", "initial-population"}};
  json p = {{"code", {{"coding", json::array({coding})}}}};
  if (masked) {
    json reason = {{"url", kDataAbsentReason}, {"valueCode", "masked"}};
    p["_count"] = {{"extension", json::array({reason})}};
  } else {
    p["count"] = count;
  }
  return p;
}

json Concept(std::string_view code) {
  json coding = {{"system", kComponentSystem}, {"code", std::string(code)}};
  return {{"coding", json::array({coding})}, {"text", std::string(code)}};
}

// The count a cell shows: its noisy value when there is one.
uint64_t Shown(const std::map<CellId, uint64_t>* shown, const CellId& c, uint64_t count) {
  if (shown == nullptr) return count;
  const auto it = shown->find(c);
  return it == shown->end() ? count : it->second;
}

json MeasureReport(const MeasureCounts& m, const Period& period, const std::set<CellId>& masked,
                   const std::map<CellId, uint64_t>* shown, const ReportContext& ctx,
                   size_t index) {
  const std::string key = MeasureKey(*m.measure);
  json group = {{"population", json::array({Population(Shown(shown, {key, "", {}}, m.population),
                                                       masked.count({key, "", {}}) != 0)})}};
  json stratifiers = json::array();
  for (const auto& s : m.stratifiers) {
    const Stratifier& st = *s.stratifier;
    json strata = json::array();
    for (const auto& [values, count] : s.cells) {
      json stratum;
      if (st.components.size() == 1) {
        stratum["value"] = {{"text", values[0]}};
      } else {
        json components = json::array();
        for (size_t i = 0; i < values.size(); ++i) {
          components.push_back({{"code", Concept(ComponentName(st.components[i]))},
                                {"value", {{"text", values[i]}}}});
        }
        stratum["component"] = std::move(components);
      }
      stratum["population"] = json::array({Population(Shown(shown, {key, st.id, values}, count),
                                                      masked.count({key, st.id, values}) != 0)});
      strata.push_back(std::move(stratum));
    }
    json codes = json::array();
    for (Component c : st.components) codes.push_back(Concept(ComponentName(c)));
    stratifiers.push_back({{"id", st.id}, {"code", codes}, {"stratum", strata}});
  }
  if (!stratifiers.empty()) group["stratifier"] = std::move(stratifiers);
  json report = {{"resourceType", "MeasureReport"},
                 {"id", ctx.release_id + "-" + std::to_string(index + 1)},
                 {"status", "complete"},
                 {"type", "summary"},
                 {"measure", key},
                 {"date", ctx.date},
                 {"period", {{"start", period.start}, {"end", period.end}}},
                 {"group", json::array({group})}};
  // FHIR strings are never empty: a hospital without a name has no reporter.
  if (!ctx.reporter.empty()) report["reporter"] = {{"display", ctx.reporter}};
  return report;
}

}  // namespace

std::string ReleaseBundleJson(const std::vector<MeasureCounts>& counts, const Period& period,
                              const std::set<CellId>& masked, const ReportContext& ctx,
                              const std::map<CellId, uint64_t>* shown) {
  json entries = json::array();
  for (size_t i = 0; i < counts.size(); ++i) {
    json report = MeasureReport(counts[i], period, masked, shown, ctx, i);
    const std::string id = report["id"];
    entries.push_back({{"fullUrl", "urn:eds:release:" + ctx.release_id + ":" + id},
                       {"resource", std::move(report)}});
  }
  json bundle = {{"resourceType", "Bundle"},
                 {"id", ctx.release_id},
                 {"type", "collection"},
                 {"timestamp", ctx.date},
                 {"entry", std::move(entries)}};
  return bundle.dump();
}

}  // namespace eds::aggregate
