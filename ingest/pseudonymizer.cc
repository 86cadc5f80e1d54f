#include "ingest/pseudonymizer.h"

#include <algorithm>
#include <cctype>

#include "storage/key_ring.h"

namespace eds::ingest {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool IsIns(std::string_view system) {
  return system == kInsNirOid || system == kInsNiaOid || system == kInsNirTestOid;
}

int Rank(const Identifier& id) {
  if (id.system.empty() || id.value.empty()) return 99;
  if (IsIns(id.system) || id.type == "INS" || id.type.rfind("INS-", 0) == 0) return 0;
  static const std::vector<std::string> kHospital = {"PI", "MR", "PN", "PT", "AN"};
  if (std::find(kHospital.begin(), kHospital.end(), id.type) != kHospital.end()) return 1;
  return 2;
}

}  // namespace

Identifier Pseudonymizer::Normalize(const Identifier& id) {
  Identifier n;
  n.system = Trim(id.system);
  if (n.system.rfind("urn:oid:", 0) == 0) n.system.erase(0, 8);
  if (n.system.find("://") != std::string::npos) {
    std::transform(n.system.begin(), n.system.end(), n.system.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!n.system.empty() && n.system.back() == '/') n.system.pop_back();
  }
  n.value = Trim(id.value);
  if (IsIns(n.system)) {
    n.value.erase(std::remove(n.value.begin(), n.value.end(), ' '), n.value.end());
    std::transform(n.value.begin(), n.value.end(), n.value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  n.type = Trim(id.type);
  return n;
}

std::string Pseudonymizer::AliasOf(const Identifier& id) {
  const Identifier n = Normalize(id);
  return "id:" + n.system + "|" + n.value;
}

std::string Pseudonymizer::Pseudonym(const Identifier& id) const {
  return storage::KeyedHash(key_, AliasOf(id), 32);
}

std::optional<size_t> Pseudonymizer::PrimaryIndex(const std::vector<Identifier>& ids) {
  std::optional<size_t> best;
  int best_rank = 99;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int r = Rank(Normalize(ids[i]));
    if (r < best_rank) {
      best_rank = r;
      best = i;
    }
  }
  return best;
}

std::optional<std::string> KnownAlias(storage::Store& store, const PendingAliases* pending,
                                      const std::string& alias) {
  if (pending != nullptr) {
    if (auto it = pending->find(alias); it != pending->end()) return it->second;
  }
  auto known = store.ResolveAlias(alias);
  if (known.ok() && known->has_value()) return **known;
  return std::nullopt;
}

std::optional<std::string> KnownPseudonym(storage::Store& store, const std::vector<Identifier>& ids,
                                          const PendingAliases* pending) {
  for (const auto& id : ids) {
    if (auto known = KnownAlias(store, pending, Pseudonymizer::AliasOf(id))) return known;
  }
  return std::nullopt;
}

std::string ResolvePseudonym(storage::Store& store, const Pseudonymizer& pseudonymizer,
                             const std::vector<Identifier>& ids) {
  if (auto known = KnownPseudonym(store, ids)) return *known;
  if (auto primary = Pseudonymizer::PrimaryIndex(ids))
    return pseudonymizer.Pseudonym(ids[*primary]);
  return "";
}

}  // namespace eds::ingest
