#include "ingest/hl7_ingest.h"

#include <sodium.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "ingest/hl7/ack.h"
#include "ingest/hl7/parser.h"
#include "ingest/resource_filing.h"
#include "ingest/v2_to_fhir.h"

namespace eds::ingest {

using hl7::AckCode;
using hl7::Hl7Error;
using hl7::Hl7ErrorCode;

std::string PatientLogicalId(std::string_view pseudonym) {
  return HexEncode(pseudonym.substr(0, 16));
}

std::string LocalUtcOffset() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  const long off = local.tm_gmtoff;
  const int hours = static_cast<int>(std::labs(off) / 3600 % 24);
  const int minutes = static_cast<int>(std::labs(off) % 3600 / 60);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", off < 0 ? '-' : '+', hours, minutes);
  return buf;
}

Hl7Ingest::Hl7Ingest(storage::Store& store, const Pseudonymizer& pseudonymizer,
                     IngestErrorLog* errors)
    : store_(store), pseudonymizer_(pseudonymizer), errors_(errors) {}

void Hl7Ingest::NoteError(const PeerInfo& peer, std::string_view code, const std::string& reason) {
  if (errors_ != nullptr) {
    errors_->Add({0, "mllp", "mllp " + peer.address, std::string(code), reason});
  }
}

std::string Hl7Ingest::NextAckId() { return "EDS" + std::to_string(++ack_counter_); }

void Hl7Ingest::HandleMessage(std::string message, const PeerInfo& peer,
                              std::function<void(std::string ack)> reply) {
  reply(Ingest(message, peer));
}

std::string Hl7Ingest::Ingest(std::string_view raw, const PeerInfo& peer) {
  hl7::AckOptions ack_options{NextAckId(), ""};
  hl7::Hl7ParseResult parsed = hl7::ParseHl7Detailed(raw);
  if (!parsed.ok()) {
    ++stats_.rejected;
    LogWarning("HL7 message refused",
               {{"EDS_PEER", peer.address}, {"EDS_ERROR", parsed.error.ToString()}});
    NoteError(peer, "AR", parsed.error.ToString());
    return hl7::MakeAckForUnparseable(raw, parsed.error, "", ack_options);
  }
  const hl7::Hl7Message& msg = *parsed.message;
  if (!hl7::IsSupportedType(msg)) {
    ++stats_.rejected;
    const hl7::Hl7Error unsupported = hl7::UnsupportedTypeError(msg);
    NoteError(peer, "AR", unsupported.ToString());
    return hl7::MakeAck(msg, AckCode::kReject, unsupported, "", ack_options);
  }
  // A resend carries the same control id and content (its MSH-7 may differ); a sender that
  // reuses a control id for other content gets that content stored, not answered "duplicate".
  const size_t body_start = raw.find_first_of("\r\n");
  const std::string_view body = body_start == std::string_view::npos ? "" : raw.substr(body_start);
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(body.data()),
                     body.size(), nullptr, 0);
  const std::string dedupe_id =
      "hl7-message:" + std::string(msg.Get("MSH-3")) + "|" + std::string(msg.Get("MSH-4")) + "|" +
      std::string(msg.control_id()) + "|" + std::string(msg.Get("MSH-9")) + "|" +
      HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  auto seen = store_.Exists("", dedupe_id);
  if (seen.ok() && *seen) {
    ++stats_.duplicates;
    return hl7::MakeAck(msg, AckCode::kAccept, std::nullopt, "duplicate: already stored",
                        ack_options);
  }
  auto error_ack = [&](Hl7Error e) {
    ++stats_.errors;
    NoteError(peer, "AE", e.ToString());
    return hl7::MakeAck(msg, AckCode::kError, e, "", ack_options);
  };

  // The patient: an identifier already known names it; else the primary identifier does.
  const std::vector<Identifier> ids = PatientIdentifiers(msg);
  const std::string pseudonym = ResolvePseudonym(store_, pseudonymizer_, ids);
  if (pseudonym.empty()) {
    return error_ack({"PID", 1, 3, 0, Hl7ErrorCode::kRequiredFieldMissing,
                      "no usable patient identifier (value and assigning authority) in PID-3"});
  }

  Hl7Error map_error;
  const std::string patient_id = PatientLogicalId(pseudonym);
  auto mapping = MapV2ToFhir(msg, patient_id, LocalUtcOffset(), &map_error);
  if (!mapping.ok()) return error_ack(map_error);

  // A merge (A40): the merged patient's records and facts move to the surviving patient first,
  // so a resend after a failure finds the merge done and only stores the message.
  FilingBatch batch(store_, pseudonymizer_);
  if (!mapping->merged_identifiers.empty()) {
    const auto merged = KnownPseudonym(store_, mapping->merged_identifiers);
    if (merged && *merged != pseudonym) {
      auto moved = store_.MergePatients(*merged, pseudonym,
                                        {"mllp " + peer.address, "patient.merge", "", "ADT^A40"});
      if (!moved.ok()) {
        LogError("HL7 merge failed",
                 {{"EDS_PEER", peer.address}, {"EDS_ERROR", moved.status().ToString()}});
        return error_ack({"", 0, 0, 0, Hl7ErrorCode::kApplicationInternalError,
                          "the merge could not be stored; send it again later"});
      }
      // The merged-away Patient stays as a pointer to the survivor and no longer counts.
      const std::string old_id = PatientLogicalId(*merged);
      const nlohmann::json replaced = {
          {"resourceType", "Patient"},
          {"id", old_id},
          {"active", false},
          {"link",
           {{{"other", {{"reference", "Patient/" + patient_id}}}, {"type", "replaced-by"}}}}};
      batch.records().push_back({pseudonym, "Patient/" + old_id, replaced.dump(), ""});
    }
    // The merged-away identifiers now name the surviving patient.
    for (const auto& id : mapping->merged_identifiers) {
      batch.AddAlias(Pseudonymizer::AliasOf(id), pseudonym);
    }
  }
  for (auto& r : mapping->resources) {
    auto resource = fhir::ReadResource(r.json, nullptr);
    if (!resource.ok()) {
      // The mapping made something the reader refuses: a defect here, not the sender's fault.
      LogError("HL7 mapping produced an invalid resource", {{"EDS_RESOURCE_TYPE", r.type}});
      return error_ack({"", 0, 0, 0, Hl7ErrorCode::kApplicationInternalError,
                        "the message could not be mapped to FHIR"});
    }
    if (r.type == "Patient") {
      batch.AddPatient(*resource, r.id, std::move(r.json), pseudonym);
    } else {
      batch.AddFor(pseudonym, *resource, r.id, std::move(r.json));
    }
  }
  // Every message repeats its patient's details, which rarely change: a Patient record stored
  // with exactly this content is not written again (nor left behind in its block for the
  // collector to reclaim). A failed look-up only means it is written again.
  batch
      .DropHeld(
          [](const storage::RecordWrite& r) { return r.logical_id.rfind("Patient/", 0) == 0; })
      .status()
      .IgnoreError();
  batch.AddRaw(pseudonym, "HL7v2/" + dedupe_id, std::string(raw));
  batch.AddRaw("", dedupe_id, "AA");
  for (const auto& id : mapping->identifiers) batch.AddAlias(Pseudonymizer::AliasOf(id), pseudonym);
  batch.AddAlias("Patient/" + patient_id, pseudonym);

  const auto type = msg.message_type();
  const Status s = store_.Write(
      batch.records(),
      {"mllp " + peer.address, "record.write", std::to_string(batch.records().size()) + " records",
       std::string(type.code) + "^" + std::string(type.trigger)},
      batch.aliases());
  if (!s.ok()) {
    LogError("HL7 message not stored", {{"EDS_PEER", peer.address}, {"EDS_ERROR", s.ToString()}});
    return error_ack({"", 0, 0, 0, Hl7ErrorCode::kApplicationInternalError,
                      "the message could not be stored; send it again later"});
  }
  ++stats_.accepted;
  return hl7::MakeAck(msg, AckCode::kAccept, std::nullopt, "", ack_options);
}

}  // namespace eds::ingest
