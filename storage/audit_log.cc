#include "storage/audit_log.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "storage/key_ring.h"

namespace eds::storage {

std::string AuditChain::Hash(std::string_view prev_hash, std::string_view body) const {
  std::string data(prev_hash);
  data += body;
  return KeyedHash(key_, data, kAuditHashSize);
}

std::string AuditChain::Seal(uint64_t seq, int64_t time_ms, const AuditEvent& event,
                             std::string_view prev_hash, std::string* hash) const {
  nlohmann::json j = {{"seq", seq},
                      {"time_ms", time_ms},
                      {"actor", event.actor},
                      {"action", event.action},
                      {"object", event.object},
                      {"detail", event.detail},
                      {"prev", HexEncode(prev_hash)}};
  // Replacement of invalid UTF-8 keeps dump() from throwing on odd actor names.
  const std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  *hash = Hash(prev_hash, body);
  return *hash + body;
}

Result<AuditEntry> AuditChain::Open(std::string_view value) const {
  if (value.size() <= kAuditHashSize) return DataLossError("audit entry is truncated");
  const std::string_view stored_hash = value.substr(0, kAuditHashSize);
  const std::string_view body = value.substr(kAuditHashSize);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("audit entry is not valid JSON");
  AuditEntry e;
  try {
    e.seq = j.at("seq").get<uint64_t>();
    e.time_ms = j.at("time_ms").get<int64_t>();
    e.event.actor = j.at("actor").get<std::string>();
    e.event.action = j.at("action").get<std::string>();
    e.event.object = j.at("object").get<std::string>();
    e.event.detail = j.at("detail").get<std::string>();
    auto prev = HexDecode(j.at("prev").get<std::string>());
    if (!prev || prev->size() != kAuditHashSize) return DataLossError("audit entry has a bad link");
    e.prev_hash = *prev;
  } catch (const nlohmann::json::exception&) {
    return DataLossError("audit entry lacks a field");
  }
  if (Hash(e.prev_hash, body) != stored_hash) {
    return DataLossError("audit entry " + std::to_string(e.seq) + " was altered (hash mismatch)");
  }
  e.hash = std::string(stored_hash);
  return e;
}

}  // namespace eds::storage
