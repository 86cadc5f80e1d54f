#include "ingest/fhir_tokens.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/key_ring.h"

namespace eds::ingest {
namespace {

constexpr char kRecordId[] = "config/fhir-tokens";

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<FhirTokens>> FhirTokens::Load(storage::Store& store) {
  EDS_ASSIGN_OR_RETURN(storage::SecretKey key, store.Secret("tokens"));
  std::unique_ptr<FhirTokens> tokens(new FhirTokens(store, std::move(key)));
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kRecordId));
  if (!exists) return tokens;
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store.Read("", kRecordId, {"system", "token.load", "", ""}));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return DataLossError("the token list is corrupt");
  MutexLock lock(tokens->mu_);
  for (const auto& t : j) {
    tokens->entries_.push_back(
        {{t.value("name", ""), t.value("created", ""), t.value("revoked", "")},
         t.value("hash", "")});
  }
  return tokens;
}

std::string FhirTokens::Hash(std::string_view token) const {
  return HexEncode(storage::KeyedHash(key_, token, 32));
}

Status FhirTokens::Save(const std::vector<Entry>& entries, const storage::AuditEvent& event) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : entries) {
    j.push_back({{"name", e.info.name},
                 {"created", e.info.created},
                 {"revoked", e.info.revoked},
                 {"hash", e.hash}});
  }
  return store_.Write({{"", kRecordId, j.dump()}}, event);
}

Result<std::string> FhirTokens::Create(const std::string& name, const std::string& actor) {
  if (!ValidName(name)) {
    return InvalidArgumentError("a token name is 1-64 letters, digits, '-', '_' or '.'");
  }
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  const std::string token =
      "eds_" + HexEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  sodium_memzero(raw, sizeof raw);
  MutexLock lock(mu_);
  for (const auto& e : entries_) {
    if (e.info.name == name && e.info.revoked.empty()) {
      return AlreadyExistsError("a valid token named '" + name + "' exists; revoke it first");
    }
  }
  std::vector<Entry> next = entries_;
  next.push_back({{name, FormatRfc3339(std::chrono::system_clock::now()), ""}, Hash(token)});
  EDS_RETURN_IF_ERROR(Save(next, {actor, "token.create", name, ""}));
  entries_ = std::move(next);
  return token;
}

Status FhirTokens::Revoke(const std::string& name, const std::string& actor) {
  MutexLock lock(mu_);
  std::vector<Entry> next = entries_;
  bool found = false;
  for (auto& e : next) {
    if (e.info.name == name && e.info.revoked.empty()) {
      e.info.revoked = FormatRfc3339(std::chrono::system_clock::now());
      found = true;
    }
  }
  if (!found) return NotFoundError("no valid token named '" + name + "'");
  EDS_RETURN_IF_ERROR(Save(next, {actor, "token.revoke", name, ""}));
  entries_ = std::move(next);
  return OkStatus();
}

std::vector<TokenInfo> FhirTokens::List() const {
  MutexLock lock(mu_);
  std::vector<TokenInfo> out;
  for (const auto& e : entries_) out.push_back(e.info);
  return out;
}

std::optional<std::string> FhirTokens::Authenticate(std::string_view token) const {
  if (token.size() != 68 || token.rfind("eds_", 0) != 0) return std::nullopt;
  const std::string hash = Hash(token);
  MutexLock lock(mu_);
  for (const auto& e : entries_) {
    if (e.info.revoked.empty() && e.hash.size() == hash.size() &&
        sodium_memcmp(e.hash.data(), hash.data(), hash.size()) == 0) {
      return e.info.name;
    }
  }
  return std::nullopt;
}

}  // namespace eds::ingest
