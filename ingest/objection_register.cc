#include "ingest/objection_register.h"

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/status_macros.h"

namespace eds::ingest {
namespace {
constexpr char kRecordId[] = "config/objections";
}  // namespace

Result<Identifier> ParseIdentifier(std::string_view text) {
  const size_t bar = text.rfind('|');
  if (bar == std::string_view::npos || bar == 0 || bar + 1 == text.size()) {
    return InvalidArgumentError(
        "an identifier is written SYSTEM|VALUE, e.g. 1.2.250.1.213.1.4.8|185127512345678");
  }
  return Identifier{std::string(text.substr(0, bar)), std::string(text.substr(bar + 1)), ""};
}

Result<std::unique_ptr<ObjectionRegister>> ObjectionRegister::Load(
    storage::Store& store, const Pseudonymizer& pseudonymizer) {
  std::unique_ptr<ObjectionRegister> r(new ObjectionRegister(store, pseudonymizer));
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kRecordId));
  if (!exists) return r;
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store.Read("", kRecordId, {"system", "objection.load", "", ""}));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return DataLossError("the objection register is corrupt");
  MutexLock lock(r->mu_);
  for (const auto& e : j) {
    auto p = HexDecode(e.value("pseudonym", ""));
    r->entries_.push_back({{e.value("identifier", ""), e.value("added", "")}, p ? *p : ""});
  }
  return r;
}

std::string ObjectionRegister::PseudonymOf(const Identifier& id) const {
  return ResolvePseudonym(store_, pseudonymizer_, {id});
}

Status ObjectionRegister::Save(const std::vector<Entry>& entries,
                               const storage::AuditEvent& event) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : entries) {
    j.push_back({{"identifier", e.objection.identifier},
                 {"added", e.objection.added},
                 {"pseudonym", HexEncode(e.pseudonym)}});
  }
  return store_.Write({{"", kRecordId, j.dump()}}, event);
}

Status ObjectionRegister::Add(const Identifier& id, const std::string& actor) {
  const std::string pseudonym = PseudonymOf(id);
  MutexLock lock(mu_);
  for (const auto& e : entries_) {
    if (e.pseudonym == pseudonym)
      return AlreadyExistsError("this patient's objection is already recorded");
  }
  std::vector<Entry> next = entries_;
  next.push_back(
      {{id.system + "|" + id.value, FormatRfc3339(std::chrono::system_clock::now())}, pseudonym});
  // The audit entry names the patient by its opaque pseudonym prefix, not the identifier.
  EDS_RETURN_IF_ERROR(Save(next, {actor, "objection.add", HexEncode(pseudonym.substr(0, 8)), ""}));
  entries_ = std::move(next);
  return OkStatus();
}

Status ObjectionRegister::Remove(const Identifier& id, const std::string& actor) {
  const std::string pseudonym = PseudonymOf(id);
  MutexLock lock(mu_);
  std::vector<Entry> next;
  for (const auto& e : entries_) {
    if (e.pseudonym != pseudonym) next.push_back(e);
  }
  if (next.size() == entries_.size())
    return NotFoundError("no objection recorded for this patient");
  EDS_RETURN_IF_ERROR(
      Save(next, {actor, "objection.remove", HexEncode(pseudonym.substr(0, 8)), ""}));
  entries_ = std::move(next);
  return OkStatus();
}

std::vector<Objection> ObjectionRegister::List() const {
  MutexLock lock(mu_);
  std::vector<Objection> out;
  for (const auto& e : entries_) out.push_back(e.objection);
  return out;
}

std::vector<std::string> ObjectionRegister::Pseudonyms() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (!e.pseudonym.empty()) out.push_back(e.pseudonym);
  }
  return out;
}

}  // namespace eds::ingest
