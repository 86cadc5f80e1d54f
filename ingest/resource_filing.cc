#include "ingest/resource_filing.h"

#include "common/status_macros.h"

namespace eds::ingest {
namespace {

std::vector<Identifier> ToIdentifiers(const fhir::ParsedResource& r) {
  std::vector<Identifier> ids;
  for (const auto& i : r.identifiers) ids.push_back({i.system, i.value, ""});
  return ids;
}

// The pseudonym of a patient the box knows only by its FHIR logical id.
std::string LogicalIdPseudonym(const Pseudonymizer& pseudonymizer, const std::string& id) {
  return pseudonymizer.Pseudonym({"urn:eds:fhir:Patient", id, ""});
}

}  // namespace

std::string FilingBatch::PatientPseudonym(const fhir::ParsedResource& patient,
                                          const std::string& id) {
  const std::vector<Identifier> ids = ToIdentifiers(patient);
  if (auto known = KnownPseudonym(store_, ids, pending_aliases_)) return *known;
  if (auto known = KnownAlias(store_, pending_aliases_, "Patient/" + id)) return *known;
  if (auto primary = Pseudonymizer::PrimaryIndex(ids))
    return pseudonymizer_.Pseudonym(ids[*primary]);
  return LogicalIdPseudonym(pseudonymizer_, id);
}

std::string FilingBatch::AddPatient(const fhir::ParsedResource& patient, const std::string& id,
                                    std::string text, std::string pseudonym) {
  const std::string ref = "Patient/" + id;
  // A FHIR Patient's id is the sender's; an HL7 v2 one is made from its pseudonym.
  const bool global_id = pseudonym.empty();
  if (pseudonym.empty()) {
    const auto it = pseudonym_of_ref_.find(ref);
    pseudonym = it != pseudonym_of_ref_.end() ? it->second : PatientPseudonym(patient, id);
  }
  pseudonym_of_ref_[ref] = pseudonym;
  for (const auto& i : patient.identifiers) {
    AddAlias(Pseudonymizer::AliasOf({i.system, i.value, ""}), pseudonym);
  }
  AddAlias(ref, pseudonym);
  const Demographics d = DemographicsOf(patient);
  demographics_[pseudonym] = d;
  // Events of this patient filed earlier in the batch learn its age and sex now.
  if (auto waiting = awaiting_demographics_.find(pseudonym);
      waiting != awaiting_demographics_.end()) {
    for (size_t i : waiting->second) {
      auto facts = DecodeFacts(*records_[i].facts);
      if (!facts.ok()) continue;
      CompleteFromDemographics(d, &*facts);
      records_[i].facts = EncodeFacts(*facts);
    }
    awaiting_demographics_.erase(waiting);
  }
  const std::vector<Fact> facts = ExtractFacts(patient, &d);
  records_.push_back({pseudonym, ref, std::move(text), EncodeFacts(facts), global_id});
  return pseudonym;
}

std::string FilingBatch::PatientOf(const std::string& reference) {
  if (reference.rfind("Patient/", 0) != 0) return "";
  if (auto it = pseudonym_of_ref_.find(reference); it != pseudonym_of_ref_.end()) {
    return it->second;
  }
  std::string pseudonym;
  if (auto known = KnownAlias(store_, pending_aliases_, reference)) {
    pseudonym = *known;
  } else {
    // A patient not seen yet: its logical id names it, and the alias lets its Patient resource
    // find the same pseudonym when it comes.
    pseudonym = LogicalIdPseudonym(pseudonymizer_, reference.substr(8));
    AddAlias(reference, pseudonym);
  }
  pseudonym_of_ref_[reference] = pseudonym;
  return pseudonym;
}

std::string FilingBatch::Add(const fhir::ParsedResource& resource, const std::string& id,
                             const std::string& subject, std::string text) {
  const std::string pseudonym = PatientOf(subject);
  AddFor(pseudonym, resource, id, std::move(text));
  records_.back().global_id = true;
  return pseudonym;
}

void FilingBatch::AddFor(const std::string& pseudonym, const fhir::ParsedResource& resource,
                         const std::string& id, std::string text) {
  const auto d = demographics_.find(pseudonym);
  std::vector<Fact> facts = ExtractFacts(resource, d == demographics_.end() ? nullptr : &d->second);
  if (d == demographics_.end() && !facts.empty()) {
    awaiting_demographics_[pseudonym].push_back(records_.size());
  }
  records_.push_back({pseudonym, resource.resource_type + "/" + id, std::move(text),
                      facts.empty() ? std::string() : EncodeFacts(facts)});
}

void FilingBatch::AddRaw(const std::string& pseudonym, const std::string& logical_id,
                         std::string payload) {
  records_.push_back({pseudonym, logical_id, std::move(payload)});
}

Result<size_t> FilingBatch::DropHeld(
    const std::function<bool(const storage::RecordWrite&)>& which) {
  EDS_ASSIGN_OR_RETURN(const std::vector<bool> held, store_.HoldsEach(records_, which));
  size_t kept = 0;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (held[i]) continue;
    if (kept != i) records_[kept] = std::move(records_[i]);
    ++kept;
  }
  const size_t dropped = records_.size() - kept;
  records_.resize(kept);
  return dropped;
}

void FilingBatch::AddAlias(const std::string& alias, const std::string& pseudonym) {
  aliases_.push_back({alias, pseudonym});
}

}  // namespace eds::ingest
