#include "hub/receiver.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"

namespace eds::hub {
namespace {

using nlohmann::json;

constexpr std::string_view kNodesId = "nodes";
constexpr std::string_view kReleasesId = "releases";

std::string NodeRecord(const std::string& node_id) { return "node/" + node_id; }
std::string ReleaseRecord(const std::string& node_id, uint64_t seq) {
  return "release/" + node_id + "/" + std::to_string(seq);
}

Answer Error(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

}  // namespace

json ToJson(const ReceivedRelease& r) {
  return {{"node_id", r.node_id}, {"sequence", r.sequence},       {"release_id", r.release_id},
          {"period", r.period},   {"received_at", r.received_at}, {"receipt_id", r.receipt_id},
          {"bytes", r.bytes}};
}

Result<std::optional<EnrolledNode>> Receiver::FindNode(const std::string& node_id) {
  EDS_ASSIGN_OR_RETURN(bool exists, store_.Exists("", NodeRecord(node_id)));
  if (!exists) return std::optional<EnrolledNode>();
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store_.Read("", NodeRecord(node_id), {"hub", "node.read", node_id, ""}));
  const json j = json::parse(text, nullptr, false);
  auto key = Base64Decode(j.is_object() ? j.value("public_key", "") : "");
  if (!key) return DataLossError("node record " + node_id + " is corrupt");
  return std::optional<EnrolledNode>(
      EnrolledNode{node_id, *key, j.value("name", ""), j.value("enrolled_at", "")});
}

Result<std::string> Receiver::Enrol(const std::string& public_key_base64, const std::string& name) {
  auto key = Base64Decode(public_key_base64);
  if (!key || key->size() != sync::kPublicKeySize) {
    return InvalidArgumentError("a node's public key is 32 bytes in base64");
  }
  const std::string node_id = sync::NodeIdOf(*key);
  MutexLock lock(mu_);
  json index = json::array();
  EDS_ASSIGN_OR_RETURN(bool has_index, store_.Exists("", kNodesId));
  if (has_index) {
    EDS_ASSIGN_OR_RETURN(std::string text,
                         store_.Read("", kNodesId, {"hub", "nodes.read", "", ""}));
    index = json::parse(text, nullptr, false);
    if (!index.is_array()) return DataLossError("node index is corrupt");
  }
  if (std::find(index.begin(), index.end(), node_id) == index.end()) index.push_back(node_id);
  const json node = {{"public_key", public_key_base64},
                     {"name", name},
                     {"enrolled_at", FormatRfc3339(clock_.Now())}};
  EDS_RETURN_IF_ERROR(store_.Write(
      {{"", NodeRecord(node_id), node.dump()}, {"", std::string(kNodesId), index.dump()}},
      {"hub", "node.enrol", node_id, sync::FingerprintOf(*key)}));
  return node_id;
}

Result<std::vector<EnrolledNode>> Receiver::Nodes() {
  std::vector<EnrolledNode> out;
  EDS_ASSIGN_OR_RETURN(bool has_index, store_.Exists("", kNodesId));
  if (!has_index) return out;
  EDS_ASSIGN_OR_RETURN(std::string text, store_.Read("", kNodesId, {"hub", "nodes.read", "", ""}));
  const json index = json::parse(text, nullptr, false);
  if (!index.is_array()) return DataLossError("node index is corrupt");
  for (const auto& id : index) {
    EDS_ASSIGN_OR_RETURN(auto node, FindNode(id.get<std::string>()));
    if (node) out.push_back(*node);
  }
  return out;
}

Answer Receiver::Accept(const std::string& header_base64, const std::string& signature_base64,
                        const std::string& body) {
  auto header = Base64Decode(header_base64);
  auto signature = Base64Decode(signature_base64);
  if (!header || !signature) {
    return Error(400, "the EDS-Release and EDS-Signature fields must be base64");
  }
  auto parsed = sync::ParseHeader(*header);
  if (!parsed.ok()) return Error(400, parsed.status().message());
  auto node = FindNode(parsed->node_id);
  if (!node.ok()) return Error(500, "cannot read the node registry");
  if (!*node) return Error(403, "node " + parsed->node_id + " is not enrolled");
  const sync::SignedRelease release{*header, body, *signature};
  auto verified = sync::VerifyRelease(release, (*node)->public_key);
  if (!verified.ok()) {
    return Error(verified.status().code() == StatusCode::kPermissionDenied ? 403 : 400,
                 verified.status().message());
  }
  if (!aggregate::CellsOfBundle(body).ok()) return Error(400, "the body is not a release Bundle");

  MutexLock lock(mu_);
  const std::string record = ReleaseRecord(verified->node_id, verified->sequence);
  auto exists = store_.Exists("", record);
  if (!exists.ok()) return Error(500, "cannot read the release store");
  if (*exists) {
    auto text = store_.Read("", record, {"hub", "release.read", record, ""});
    if (!text.ok()) return Error(500, "cannot read the release store");
    const json stored = json::parse(*text, nullptr, false);
    if (stored.is_object() && stored.value("header", "") == *header &&
        stored.value("bundle", "") == body) {
      return {200, stored.value("receipt", json::object()).dump()};
    }
    return Error(409, "sequence " + std::to_string(verified->sequence) + " of " +
                          verified->node_id + " was already received with other bytes");
  }
  unsigned char id[16];
  randombytes_buf(id, sizeof id);
  const json receipt = {
      {"receipt_id", "rcpt-" + HexEncode({reinterpret_cast<const char*>(id), sizeof id})},
      {"node_id", verified->node_id},
      {"sequence", verified->sequence},
      {"release_id", verified->release_id},
      {"bundle_sha256", verified->bundle_sha256},
      {"received_at", FormatRfc3339(clock_.Now())}};
  auto list = ListLocked();
  if (!list.ok()) return Error(500, "cannot read the release index");
  list->push_back({verified->node_id, verified->sequence, verified->release_id, verified->period,
                   receipt["received_at"].get<std::string>(),
                   receipt["receipt_id"].get<std::string>(), body.size()});
  json index = json::array();
  for (const auto& r : *list) index.push_back(ToJson(r));
  const json stored = {
      {"header", *header}, {"bundle", body}, {"signature", signature_base64}, {"receipt", receipt}};
  Status s =
      store_.Write({{"", record, stored.dump()}, {"", std::string(kReleasesId), index.dump()}},
                   {"hub", "release.accept", record, verified->release_id});
  if (!s.ok()) return Error(503, "cannot store the release now");
  return {201, receipt.dump()};
}

Result<std::vector<ReceivedRelease>> Receiver::ListLocked() {
  std::vector<ReceivedRelease> out;
  EDS_ASSIGN_OR_RETURN(bool has_index, store_.Exists("", kReleasesId));
  if (!has_index) return out;
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store_.Read("", kReleasesId, {"hub", "releases.list", "", ""}));
  const json index = json::parse(text, nullptr, false);
  if (!index.is_array()) return DataLossError("release index is corrupt");
  for (const auto& e : index) {
    out.push_back({e.value("node_id", ""), e.value("sequence", uint64_t{0}),
                   e.value("release_id", ""), e.value("period", ""), e.value("received_at", ""),
                   e.value("receipt_id", ""), e.value("bytes", size_t{0})});
  }
  return out;
}

Result<std::vector<ReceivedRelease>> Receiver::List() {
  MutexLock lock(mu_);
  return ListLocked();
}

Result<std::string> Receiver::Export(const std::string& node_id, uint64_t sequence) {
  const std::string record = ReleaseRecord(node_id, sequence);
  EDS_ASSIGN_OR_RETURN(bool exists, store_.Exists("", record));
  if (!exists) return NotFoundError("no release " + std::to_string(sequence) + " of " + node_id);
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store_.Read("", record, {"hub", "release.export", record, ""}));
  const json stored = json::parse(text, nullptr, false);
  if (!stored.is_object()) return DataLossError("release record is corrupt");
  return stored.value("bundle", "");
}

Result<MeasureSum> Receiver::Sum(const std::string& measure, const std::string& period) {
  auto matches = [&](const std::string& cell_measure) {
    return cell_measure == measure || cell_measure.substr(0, cell_measure.find('|')) == measure;
  };
  EDS_ASSIGN_OR_RETURN(auto list, List());
  std::map<std::string, const ReceivedRelease*> latest;  // node -> its latest for the period
  for (const auto& r : list) {
    if (r.period != period) continue;
    auto& slot = latest[r.node_id];
    if (slot == nullptr || slot->sequence < r.sequence) slot = &r;
  }
  MeasureSum sum{measure, period, {}, {}};
  std::map<aggregate::CellId, std::optional<uint64_t>> cells;
  for (const auto& [node, r] : latest) {
    EDS_ASSIGN_OR_RETURN(std::string bundle, Export(node, r->sequence));
    EDS_ASSIGN_OR_RETURN(aggregate::ShownCells shown, aggregate::CellsOfBundle(bundle));
    bool any = false;
    for (const auto& [cell, count] : shown) {
      if (!matches(cell.measure)) continue;
      any = true;
      auto [it, fresh] = cells.emplace(cell, count);
      if (fresh) continue;
      // Masked anywhere, masked in the sum: a masked count must not leak through a total.
      if (!it->second || !count) {
        it->second.reset();
      } else {
        *it->second += *count;
      }
    }
    if (any) sum.nodes.push_back(node);
  }
  // A stratum a node did not report (none of its patients) adds nothing.
  for (auto& [cell, count] : cells) sum.cells.push_back({cell, count});
  if (sum.nodes.empty()) {
    return NotFoundError("no node released " + measure + " for " + period);
  }
  return sum;
}

}  // namespace eds::hub
